"""The transparency log: an append-only RFC 9162 Merkle tree of every publish, correction,
withdrawal, expiry and credential status change, with signed checkpoints and proofs."""
