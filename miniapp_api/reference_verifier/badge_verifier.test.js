'use strict';
// Run: node --test miniapp_api/reference_verifier/
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('crypto');
const { verifyBadgeToken, base64urlDecode, extractToken } = require('./badge_verifier');
const { nodeEd25519Verify } = require('./node_ed25519');

const T0 = 1700000000;
const KID = 'badge-2024-01';

function makeKey(kid) {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
  const x = publicKey.export({ format: 'jwk' }).x;
  return { privateKey, jwk: { kty: 'OKP', crv: 'Ed25519', x, kid, use: 'sig', alg: 'EdDSA' } };
}

const key = makeKey(KID);
const JWKS = { keys: [makeKey('older-key').jwk, key.jwk] };

const b64 = (text) => Buffer.from(text).toString('base64url');

// Builds a token the way PyJWT does (sorted header, compact JSON, unpadded base64url).
function sign(payload, { header = { alg: 'EdDSA', kid: KID }, privateKey = key.privateKey } = {}) {
  const rawPayload = typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload);
  const input = `${b64(JSON.stringify(header))}.${b64(rawPayload)}`;
  const signature = crypto.sign(null, Buffer.from(input), privateKey).toString('base64url');
  return `${input}.${signature}`;
}

function verify(tokenOrUrl, now = T0 + 10, jwks = JWKS) {
  return verifyBadgeToken(tokenOrUrl, jwks, { now, ed25519Verify: nodeEd25519Verify });
}

const STATIC = { b: '350500-0123', a: '11350500MB0100002E', t: T0 };
const DYNAMIC = { ...STATIC, e: T0 + 60 };

test('authentic static badge', () => {
  assert.deepEqual(verify(sign(STATIC), T0 + 10 * 365 * 86400), { result: 'authentic', reason: 'ok', claims: STATIC });
});

test('authentic dynamic badge within its 60 s, including the last second', () => {
  assert.equal(verify(sign(DYNAMIC), T0 + 30).result, 'authentic');
  assert.equal(verify(sign(DYNAMIC), T0 + 60).result, 'authentic');
});

test('dynamic badge past expiry is expired, with its claims', () => {
  assert.deepEqual(verify(sign(DYNAMIC), T0 + 61), { result: 'expired', reason: 'dynamic_expired', claims: DYNAMIC });
});

test('tampered payload keeps the signature but fails it', () => {
  const [header, , signature] = sign(STATIC).split('.');
  const forged = `${header}.${b64(JSON.stringify({ ...STATIC, b: '350500-9999' }))}.${signature}`;
  assert.deepEqual(verify(forged), { result: 'invalid', reason: 'bad_signature', claims: null });
});

test('tampered signature', () => {
  const token = sign(STATIC);
  const sig = Buffer.from(token.split('.')[2], 'base64url');
  sig[0] ^= 1;
  const forged = token.replace(/[^.]+$/, sig.toString('base64url'));
  assert.equal(verify(forged).reason, 'bad_signature');
  // Signature of the wrong length never reaches the Ed25519 primitive.
  assert.equal(verify(token.replace(/[^.]+$/, sig.subarray(0, 63).toString('base64url'))).reason, 'bad_signature');
});

test('non-canonical base64url spelling of a valid signature is rejected', () => {
  // 64 bytes -> 86 chars; the last char carries 4 unused bits. Setting them must not still verify.
  const token = sign(STATIC);
  const last = token[token.length - 1];
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const respelled = token.slice(0, -1) + alphabet[alphabet.indexOf(last) ^ 1];
  assert.equal(verify(respelled).reason, 'malformed');
});

test('signed by a key outside the JWKS', () => {
  const stranger = makeKey(KID);
  assert.equal(verify(sign(STATIC, { privateKey: stranger.privateKey })).reason, 'bad_signature');
  const unknown = sign(STATIC, { header: { alg: 'EdDSA', kid: 'retired' }, privateKey: stranger.privateKey });
  assert.deepEqual(verify(unknown), { result: 'invalid', reason: 'unknown_key', claims: null });
});

test('kid must name an Ed25519 OKP signing key', () => {
  for (const wrong of [{ kty: 'EC' }, { crv: 'X25519' }, { use: 'enc' }, { alg: 'ES256' }, { x: 'AAAA' }]) {
    assert.equal(verify(sign(STATIC), T0, { keys: [{ ...key.jwk, ...wrong }] }).reason, 'unknown_key');
  }
  // A token without a (string) kid must not match a JWK that has none either.
  const anonymous = { ...key.jwk, kid: undefined };
  for (const header of [{ alg: 'EdDSA' }, { alg: 'EdDSA', kid: 7 }]) {
    assert.equal(verify(sign(STATIC, { header }), T0, { keys: [anonymous] }).reason, 'unknown_key');
  }
  for (const jwks of [null, {}, { keys: 'nope' }, { keys: [null] }]) {
    assert.equal(verify(sign(STATIC), T0, jwks).reason, 'unknown_key');
  }
});

test('alg other than EdDSA is refused before any key lookup', () => {
  for (const alg of ['none', 'HS256', 'eddsa', undefined]) {
    const header = b64(JSON.stringify({ alg, kid: KID }));
    const [, payload, signature] = sign(STATIC).split('.');
    assert.deepEqual(verify(`${header}.${payload}.${signature}`), {
      result: 'invalid',
      reason: 'unsupported_alg',
      claims: null,
    });
    assert.equal(verify(`${header}.${payload}.`).reason, 'unsupported_alg');
  }
});

test('malformed tokens', () => {
  const [header, payload, signature] = sign(STATIC).split('.');
  const cases = {
    'two parts': `${header}.${payload}`,
    'four parts': `${header}.${payload}.${signature}.${signature}`,
    'bad base64': `${header}.${payload}.${signature.slice(0, 40)}*${signature.slice(41)}`,
    'padded base64': `${header}.${payload}.${signature}==`,
    'header not JSON': `${b64('{alg:EdDSA}')}.${payload}.${signature}`,
    'header not an object': `${b64('["EdDSA"]')}.${payload}.${signature}`,
    'payload not JSON': sign('b=1&a=2'),
    'payload not UTF-8': sign(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])),
    'missing b': sign({ a: STATIC.a, t: T0 }),
    'missing a': sign({ b: STATIC.b, t: T0 }),
    'missing t': sign({ b: STATIC.b, a: STATIC.a }),
    'numeric b': sign({ ...STATIC, b: 123 }),
    'non-integer t': sign({ ...STATIC, t: T0 + 0.5 }),
    'string t': sign({ ...STATIC, t: String(T0) }),
    'non-integer e': sign({ ...DYNAMIC, e: String(T0 + 60) }),
    'null e': sign({ ...DYNAMIC, e: null }),
    'longer than 1024': sign({ ...STATIC, b: 'x'.repeat(800) }),
    empty: '',
    'not a badge URL': 'https://example.gov.cn/news/1',
  };
  for (const [name, token] of Object.entries(cases)) {
    assert.deepEqual(verify(token), { result: 'invalid', reason: 'malformed', claims: null }, name);
  }
});

test('never throws on junk input', () => {
  for (const junk of [undefined, null, 42, {}, [], '...', 'a.b.c', '%E0%A4%A', '/v/', '\u0000']) {
    assert.equal(verify(junk).result, 'invalid');
  }
  const throwing = () => {
    throw new Error('boom');
  };
  assert.equal(verifyBadgeToken(sign(STATIC), JWKS, { ed25519Verify: throwing }).reason, 'bad_signature');
});

test('missing ed25519Verify is a wiring error, not an invalid badge', () => {
  assert.throws(() => verifyBadgeToken(sign(STATIC), JWKS, {}), TypeError);
});

test('full URL with query string and fragment, and the percent-encoded form WeChat passes in options.q', () => {
  const token = sign(DYNAMIC);
  const url = `https://sanxiang.example.gov.cn/v/${token}?from=qr&utm=1#top`;
  assert.equal(verify(url, T0 + 5).result, 'authentic');
  assert.equal(verify(encodeURIComponent(url), T0 + 5).result, 'authentic');
  assert.equal(verify(`https://sanxiang.example.gov.cn/v/${token}/`, T0 + 5).result, 'authentic');
  assert.equal(verify(`  ${token}\n`, T0 + 5).result, 'authentic');
  assert.equal(extractToken(`https://h/x/${token}`), null);
});

test('default clock is the device clock', () => {
  const now = Math.floor(Date.now() / 1000);
  const fresh = sign({ ...STATIC, t: now, e: now + 60 });
  assert.equal(verifyBadgeToken(fresh, JWKS, { ed25519Verify: nodeEd25519Verify }).result, 'authentic');
  const stale = sign({ ...STATIC, t: now - 120, e: now - 60 });
  assert.equal(verifyBadgeToken(stale, JWKS, { ed25519Verify: nodeEd25519Verify }).result, 'expired');
});

test('base64urlDecode matches Buffer and rejects what RFC 7515 forbids', () => {
  for (let n = 0; n < 40; n++) {
    const bytes = crypto.randomBytes(n);
    assert.deepEqual(Buffer.from(base64urlDecode(bytes.toString('base64url'))), bytes);
  }
  for (const bad of ['A', 'AB==', 'A+B/', 'AB C', 'AB', 'ABC']) {
    // 'AB' and 'ABC' carry non-zero unused bits; 'AA' and 'AAA' are the canonical spellings.
    assert.equal(base64urlDecode(bad), null, bad);
  }
  assert.deepEqual(Array.from(base64urlDecode('AA')), [0]);
});

// -- SM2 with SM3 (SIGNATURE_SUITE=sm2), through npm sm-crypto; skipped until `npm ci` has installed it here.
let smCrypto = null;
try {
  smCrypto = require('sm-crypto');
} catch (e) {
  if (e.code !== 'MODULE_NOT_FOUND') throw e;
}
const SM2_SKIP = smCrypto ? false : 'sm-crypto not installed: npm ci in miniapp_api/reference_verifier';

function makeSm2Key(kid) {
  const { publicKey, privateKey } = smCrypto.sm2.generateKeyPairHex(); // publicKey: 04 || x || y, hex
  const coordinate = (from) => Buffer.from(publicKey.slice(from, from + 64), 'hex').toString('base64url');
  return { privateKey, jwk: { kty: 'EC', crv: 'SM2', x: coordinate(2), y: coordinate(66), kid, use: 'sig', alg: 'SM2SM3' } };
}

function signSm2(payload, privateKey, header = { alg: 'SM2SM3', kid: KID }) {
  const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(payload))}`;
  const signature = smCrypto.sm2.doSignature(input, privateKey, { hash: true, der: false }); // r || s, hex
  return `${input}.${Buffer.from(signature, 'hex').toString('base64url')}`;
}

function verifySm2(token, jwks, now = T0 + 10) {
  const { smCryptoSm2Verify } = require('./node_sm2');
  return verifyBadgeToken(token, jwks, { now, ed25519Verify: nodeEd25519Verify, sm2Verify: smCryptoSm2Verify });
}

test('SM2SM3: authentic, expired, altered and foreign badges', { skip: SM2_SKIP }, () => {
  const platform = makeSm2Key(KID);
  const jwks = { keys: [key.jwk, platform.jwk] };
  assert.deepEqual(verifySm2(signSm2(STATIC, platform.privateKey), jwks), { result: 'authentic', reason: 'ok', claims: STATIC });
  assert.equal(verifySm2(signSm2(DYNAMIC, platform.privateKey), jwks, T0 + 61).result, 'expired');
  const [header, , signature] = signSm2(STATIC, platform.privateKey).split('.');
  const altered = `${header}.${b64(JSON.stringify({ ...STATIC, b: '350500-9999' }))}.${signature}`;
  assert.equal(verifySm2(altered, jwks).reason, 'bad_signature');
  assert.equal(verifySm2(signSm2(STATIC, makeSm2Key(KID).privateKey), jwks).reason, 'bad_signature');
  const short = signSm2(STATIC, platform.privateKey).replace(/[^.]+$/, (s) => Buffer.from(s, 'base64url').subarray(0, 63).toString('base64url'));
  assert.equal(verifySm2(short, jwks).reason, 'bad_signature');
});

test('SM2SM3 needs an SM2 key under the kid, and EdDSA an Ed25519 one', { skip: SM2_SKIP }, () => {
  const platform = makeSm2Key(KID);
  // The same kid holds an Ed25519 key only: an SM2SM3 token does not match it, nor an EdDSA token an SM2 key.
  assert.equal(verifySm2(signSm2(STATIC, platform.privateKey), { keys: [key.jwk] }).reason, 'unknown_key');
  assert.equal(verifySm2(sign(STATIC), { keys: [platform.jwk] }).reason, 'unknown_key');
  for (const wrong of [{ crv: 'P-256' }, { alg: 'ES256' }, { y: 'AAAA' }, { use: 'enc' }]) {
    assert.equal(verifySm2(signSm2(STATIC, platform.privateKey), { keys: [{ ...platform.jwk, ...wrong }] }).reason, 'unknown_key');
  }
});

test('an SM2SM3 token with no sm2Verify injected is unsupported, not an error', { skip: SM2_SKIP }, () => {
  const platform = makeSm2Key(KID);
  assert.equal(verify(signSm2(STATIC, platform.privateKey), T0, { keys: [platform.jwk] }).reason, 'unsupported_alg');
  assert.equal(verifyBadgeToken(sign(STATIC), JWKS, { sm2Verify: () => true }).reason, 'unsupported_alg');
});
