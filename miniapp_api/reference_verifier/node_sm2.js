'use strict';
// SM2 with SM3 behind the verifier's sm2Verify(message, signature, publicKey) contract, through npm sm-crypto
// (pinned in ./package.json; `npm ci` here installs it). sm-crypto also runs in a mini-program, which can pass the
// same function. signature: r || s, 64 bytes; publicKey: 0x04 || x || y, 65 bytes; the signer's ZA is computed
// with the default user ID of GM/T 0009, as the platform signs.
const { sm2 } = require('sm-crypto');

const USER_ID = '1234567812345678';

function hex(bytes) {
  return Buffer.from(bytes).toString('hex');
}

function smCryptoSm2Verify(message, signature, publicKey) {
  return sm2.doVerifySignature(Array.from(message), hex(signature), hex(publicKey), {
    hash: true,
    der: false,
    userId: USER_ID,
  });
}

module.exports = { smCryptoSm2Verify };
