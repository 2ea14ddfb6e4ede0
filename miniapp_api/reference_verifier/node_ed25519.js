'use strict';
// Node's built-in Ed25519 behind the verifier's ed25519Verify(message, signature, publicKey) contract.
// The mini-program injects its own (e.g. tweetnacl's nacl.sign.detached.verify) instead.
const crypto = require('crypto');

function nodeEd25519Verify(message, signature, publicKey) {
  const x = Buffer.from(publicKey).toString('base64url');
  const key = crypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
  return crypto.verify(null, message, key, signature);
}

module.exports = { nodeEd25519Verify };
