'use strict';
/*
 * Offline verifier for officer badge tokens (reference implementation for the WeChat mini-program).
 *
 * A badge QR holds `{PUBLIC_BASE_URL}/v/{token}`; the token is a compact JWS signed by the platform with
 * Ed25519 (JOSE alg "EdDSA"), or, on a platform run with SIGNATURE_SUITE=sm2, with SM2 and SM3 (alg "SM2SM3",
 * the platform's own name: JOSE registers none for SM2). Claims use short names to keep the QR small:
 *   b  badge number (string)      a  agency code (string)
 *   t  issued at (integer Unix s) e  expiry (integer Unix s; only on dynamic, on-phone badges)
 *
 * WHAT AN OFFLINE "authentic" MEANS: the badge was issued by the platform (one of the keys in the
 * JWKS signed it) and, if dynamic, it is not a stale screenshot. It does NOT mean the officer is
 * still active: suspension and revocation are live facts only the server knows. So the
 * mini-program shows "证件签名有效，联网核验当前状态" and, when online, calls
 * `GET /api/v1/badges/verify?token=...` for the current status.
 *
 * No dependencies, plain ES2017, so it runs unchanged in a mini-program. The signature primitives are
 * injected, each `(message, signature, publicKey) -> boolean` on Uint8Arrays:
 *   ed25519Verify  the same signature as tweetnacl's `nacl.sign.detached.verify`, passed directly;
 *                  in Node, ./node_ed25519.js.
 *   sm2Verify      SM2 with SM3 and the default user ID "1234567812345678" (GM/T 0009); signature r || s
 *                  (64 bytes), publicKey 0x04 || x || y (65 bytes); ./node_sm2.js wraps npm sm-crypto, which
 *                  also runs in a mini-program.
 * A token whose algorithm has no primitive injected is "unsupported_alg".
 */

const REASON_RESULT = {
  ok: 'authentic',
  dynamic_expired: 'expired',
  malformed: 'invalid',
  unsupported_alg: 'invalid',
  unknown_key: 'invalid',
  bad_signature: 'invalid',
};

const MAX_TOKEN_LENGTH = 1024;

const B64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const B64URL_VALUE = {};
for (let i = 0; i < B64URL_ALPHABET.length; i++) B64URL_VALUE[B64URL_ALPHABET[i]] = i;

function outcome(reason, claims) {
  return { result: REASON_RESULT[reason], reason, claims: claims || null };
}

/*
 * Strict unpadded base64url -> Uint8Array, or null. Non-zero leftover bits are rejected: a lenient
 * decoder would accept several spellings of one signature (e.g. the last character of an 86-char
 * Ed25519 signature carries 4 unused bits), so a token could be altered and still "verify".
 */
function base64urlDecode(text) {
  if (typeof text !== 'string' || !/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return null;
  const bytes = new Uint8Array(Math.floor((text.length * 6) / 8));
  let buffer = 0;
  let bits = 0;
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    buffer = (buffer << 6) | B64URL_VALUE[text[i]];
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes[n++] = (buffer >> bits) & 0xff;
    }
  }
  if ((buffer & ((1 << bits) - 1)) !== 0) return null;
  return bytes;
}

// UTF-8 bytes -> JSON object, or null. No TextDecoder: older mini-program runtimes lack it.
// decodeURIComponent rejects invalid UTF-8, which is what we want.
function parseJsonObject(bytes) {
  if (!bytes) return null;
  try {
    let escaped = '';
    for (let i = 0; i < bytes.length; i++) escaped += '%' + (bytes[i] < 16 ? '0' : '') + bytes[i].toString(16);
    const value = JSON.parse(decodeURIComponent(escaped));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : null;
  } catch (e) {
    return null;
  }
}

/*
 * Bare token, `.../v/<token>` URL (query and fragment ignored), or either of those
 * percent-encoded (WeChat hands a scanned URL to the mini-program as encodeURIComponent(url) in
 * `options.q`). A real token never contains '%', so decoding is unambiguous.
 */
function extractToken(tokenOrUrl) {
  if (typeof tokenOrUrl !== 'string') return null;
  let text = tokenOrUrl.trim();
  if (text.indexOf('%') !== -1) {
    try {
      text = decodeURIComponent(text);
    } catch (e) {
      return null;
    }
  }
  text = text.split(/[?#]/)[0];
  if (text.indexOf('/') === -1) return text;
  const match = /\/v\/([^/]+)\/?$/.exec(text);
  return match ? match[1] : null;
}

// Per JWS alg: the JWK members that mark a key of it, and its public key as the primitive takes it.
const ALGORITHMS = {
  EdDSA: {
    option: 'ed25519Verify',
    kty: 'OKP',
    crv: 'Ed25519',
    publicKey(jwk) {
      const raw = base64urlDecode(jwk.x);
      return raw && raw.length === 32 ? raw : null;
    },
  },
  SM2SM3: {
    option: 'sm2Verify',
    kty: 'EC',
    crv: 'SM2',
    publicKey(jwk) {
      const x = base64urlDecode(jwk.x);
      const y = base64urlDecode(jwk.y);
      if (!x || !y || x.length !== 32 || y.length !== 32) return null;
      const point = new Uint8Array(65);
      point[0] = 4; // uncompressed
      point.set(x, 1);
      point.set(y, 33);
      return point;
    },
  },
};

// The public key the token names, if the JWKS holds a usable signing key of the token's algorithm under that kid.
function findPublicKey(jwks, kid, alg) {
  const algorithm = ALGORITHMS[alg];
  const keys = jwks && Array.isArray(jwks.keys) ? jwks.keys : [];
  for (const jwk of keys) {
    if (!jwk || jwk.kid !== kid || jwk.kty !== algorithm.kty || jwk.crv !== algorithm.crv) continue;
    if ((jwk.use !== undefined && jwk.use !== 'sig') || (jwk.alg !== undefined && jwk.alg !== alg)) continue;
    const publicKey = algorithm.publicKey(jwk);
    if (publicKey) return publicKey;
  }
  return null;
}

function asciiBytes(text) {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

function hasValidClaims(claims) {
  return (
    typeof claims.b === 'string' &&
    typeof claims.a === 'string' &&
    Number.isSafeInteger(claims.t) &&
    (claims.e === undefined || Number.isSafeInteger(claims.e))
  );
}

/**
 * verifyBadgeToken(tokenOrUrl, jwks, {now, ed25519Verify, sm2Verify}) -> {result, reason, claims}
 *   result: "authentic" | "expired" | "invalid"
 *   reason: "ok" | "dynamic_expired" | "malformed" | "unsupported_alg" | "unknown_key" | "bad_signature"
 *   claims: the payload for "authentic" and "expired", null otherwise
 *   now: Unix seconds (default: the device clock)
 * Never throws on bad input; throws TypeError only when neither ed25519Verify nor sm2Verify is given (a
 * wiring bug that must not masquerade as "this badge is invalid").
 */
function verifyBadgeToken(tokenOrUrl, jwks, options) {
  const opts = options || {};
  if (typeof opts.ed25519Verify !== 'function' && typeof opts.sm2Verify !== 'function') {
    throw new TypeError('verifyBadgeToken needs options.ed25519Verify or options.sm2Verify(message, signature, publicKey)');
  }
  const now = typeof opts.now === 'number' ? opts.now : Math.floor(Date.now() / 1000);

  // Same 1024-character cap as the server: a badge token is ~200 characters.
  const token = extractToken(tokenOrUrl);
  const parts = token && token.length <= MAX_TOKEN_LENGTH ? token.split('.') : [];
  if (parts.length !== 3) return outcome('malformed');
  const header = parseJsonObject(base64urlDecode(parts[0]));
  const signature = base64urlDecode(parts[2]);
  if (!header || !signature) return outcome('malformed');

  // Only the signature algorithms above, each checked with its own kind of key: never let the token choose
  // "none" or an HMAC keyed with the public key. hasOwnProperty: "constructor" or "__proto__" is no alg.
  const algorithm = Object.prototype.hasOwnProperty.call(ALGORITHMS, header.alg) ? ALGORITHMS[header.alg] : null;
  const primitive = algorithm && opts[algorithm.option];
  if (typeof primitive !== 'function') return outcome('unsupported_alg');
  // No kid names no key (as on the server); never match it against a JWK that lacks a kid.
  const publicKey = typeof header.kid === 'string' ? findPublicKey(jwks, header.kid, header.alg) : null;
  if (!publicKey) return outcome('unknown_key');

  let valid = false;
  if (signature.length === 64) {
    try {
      valid = primitive(asciiBytes(parts[0] + '.' + parts[1]), signature, publicKey) === true;
    } catch (e) {
      valid = false;
    }
  }
  if (!valid) return outcome('bad_signature');

  // The payload is read only after the signature vouches for it.
  const claims = parseJsonObject(base64urlDecode(parts[1]));
  if (!claims || !hasValidClaims(claims)) return outcome('malformed');
  if (claims.e !== undefined && now > claims.e) return outcome('dynamic_expired', claims);
  return outcome('ok', claims);
}

module.exports = { verifyBadgeToken, base64urlDecode, extractToken };
