#!/usr/bin/env node
'use strict';
// node cli.js <jwks.json> <token-or-url> [--now <unix-seconds>]
// Prints the verification result as JSON; exit 0 only for "authentic" (2 for usage errors).
const fs = require('fs');
const { verifyBadgeToken } = require('./badge_verifier');
const { nodeEd25519Verify } = require('./node_ed25519');

// SM2 (SM2SM3 tokens) needs npm sm-crypto (`npm ci` in this folder); without it such tokens are unsupported_alg.
function loadSm2Verify() {
  try {
    return require('./node_sm2').smCryptoSm2Verify;
  } catch (e) {
    if (e.code !== 'MODULE_NOT_FOUND') throw e;
    return undefined;
  }
}

function main(argv) {
  const args = argv.slice();
  let now;
  const nowAt = args.indexOf('--now');
  if (nowAt !== -1) {
    now = Number(args[nowAt + 1]);
    args.splice(nowAt, 2);
    if (!Number.isFinite(now)) return usage('--now needs Unix seconds');
  }
  if (args.length !== 2) return usage();
  let jwks;
  try {
    jwks = JSON.parse(fs.readFileSync(args[0], 'utf8'));
  } catch (e) {
    return usage(`cannot read JWKS ${args[0]}: ${e.message}`);
  }
  const sm2Verify = loadSm2Verify();
  const verdict = verifyBadgeToken(args[1], jwks, { now, ed25519Verify: nodeEd25519Verify, sm2Verify });
  if (!sm2Verify && verdict.reason === 'unsupported_alg') {
    process.stderr.write('SM2SM3 tokens need sm-crypto: run npm ci in ' + __dirname + '\n');
  }
  process.stdout.write(JSON.stringify(verdict) + '\n');
  return verdict.result === 'authentic' ? 0 : 1;
}

function usage(problem) {
  if (problem) process.stderr.write(problem + '\n');
  process.stderr.write('usage: node cli.js <jwks.json> <token-or-url> [--now <unix-seconds>]\n');
  return 2;
}

process.exitCode = main(process.argv.slice(2));
