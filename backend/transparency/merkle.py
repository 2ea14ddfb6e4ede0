"""The transparency log's Merkle tree, exactly as RFC 9162 §2.1 defines it, over stored complete subtrees.

The database keeps the hash of every complete subtree, keyed (level, index): the node covering leaves
[index·2^level, (index+1)·2^level); level 0 holds the leaf hashes. Nothing else is stored, so every hash the
RFC asks for is assembled here from those nodes. That works because every range D[a:b] the RFC's recursion
visits starts at a multiple of 2^ceil(log2(b-a)): its binary decomposition (one complete subtree per set bit
of b-a, largest first) is made of nodes that exist, and the range's MTH is those nodes folded right to left,
since MTH always splits off the largest power of two first. A proof therefore needs O(log n) nodes, which
the functions below collect up front and fetch in a single ``reader.nodes`` call (one database round trip).

Everything here is pure: bytes in, bytes out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Protocol

Key = tuple[int, int]  # (level, index) of a complete subtree

# RFC 9162 §2.1.1: the prefixes keep a leaf from ever hashing like an interior node (second-preimage defence).
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


class NodeReader(Protocol):
    def nodes(self, keys: Collection[Key]) -> Mapping[Key, bytes]:
        """Hashes of the given complete subtrees (all must exist)."""


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(_LEAF_PREFIX + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


EMPTY_ROOT: bytes = hashlib.sha256(b"").digest()


# --- the shape of the tree ---------------------------------------------------------------------------------


def _split(size: int) -> int:
    """k in the RFC: the largest power of two smaller than ``size`` (size >= 2)."""
    return 1 << ((size - 1).bit_length() - 1)


def _range_keys(start: int, size: int) -> list[Key]:
    """The complete subtrees making up leaves [start, start+size), left to right (largest first).

    Only valid for the aligned ranges the RFC's recursion produces (see the module docstring); the caller
    guarantees that, and a misaligned range would show up as a missing node in the reader.
    """
    keys = []
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            keys.append((level, start >> level))
            start += 1 << level
    return keys


def _fold(keys: Sequence[Key], hashes: Mapping[Key, bytes]) -> bytes:
    """MTH of a range from its decomposition: right to left, because MTH(D[n]) = HASH(MTH(D[0:k]) ‖ MTH(D[k:n]))
    with the left part always the largest complete subtree."""
    result = hashes[keys[-1]]
    for key in reversed(keys[:-1]):
        result = node_hash(hashes[key], result)
    return result


def _fetch(reader: NodeReader, ranges: Iterable[tuple[int, int]]) -> list[bytes]:
    """The MTH of each (start, size) range, reading every node they need in one call."""
    decompositions = [_range_keys(start, size) for start, size in ranges]
    wanted = {key for keys in decompositions for key in keys}
    hashes = reader.nodes(wanted)
    return [_fold(keys, hashes) for keys in decompositions]


# --- appending ---------------------------------------------------------------------------------------------


def root_keys(size: int) -> list[Key]:
    """The complete subtrees whose hashes determine MTH(D[0:size]), left to right."""
    if size < 0:
        raise ValueError(f"size must be >= 0, got {size}")
    return _range_keys(0, size)


def append_keys(size: int) -> list[Key]:
    """The frontier: complete subtrees on the right edge of a tree of ``size`` leaves that appending may
    combine with.

    A batch large enough can complete a parent over every one of them, so the frontier is the whole right
    edge, which is exactly the set that determines the root.
    """
    return root_keys(size)


def appended_nodes(size: int, frontier: Mapping[Key, bytes], leaves: Sequence[bytes]) -> list[tuple[Key, bytes]]:
    """Every new complete-subtree node once ``leaves`` (leaf hashes) follow the first ``size`` leaves.

    In append order: each leaf's level-0 node, then each parent it completes, so a batch yields exactly what
    appending the leaves one at a time would. ``frontier`` holds the hashes of ``append_keys(size)``.
    """
    # The right edge's hashes as a stack, smallest (rightmost) subtree on top: a node with an odd index is the
    # right child of the parent it completes, and its left sibling is then always the top of the stack.
    stack = [frontier[key] for key in append_keys(size)]
    new: list[tuple[Key, bytes]] = []
    for position, leaf in enumerate(leaves, start=size):
        key, value = (0, position), leaf
        new.append((key, value))
        while key[1] & 1:
            key, value = (key[0] + 1, key[1] >> 1), node_hash(stack.pop(), value)
            new.append((key, value))
        stack.append(value)
    return new


# --- roots and proofs --------------------------------------------------------------------------------------


def root(size: int, reader: NodeReader) -> bytes:
    """MTH(D[0:size])."""
    if size < 0:
        raise ValueError(f"size must be >= 0, got {size}")
    if size == 0:
        return EMPTY_ROOT  # defined by the RFC, nothing to read
    (result,) = _fetch(reader, [(0, size)])
    return result


def inclusion_proof(index: int, size: int, reader: NodeReader) -> list[bytes]:
    """PATH(index, D[0:size]) of RFC 9162 §2.1.3.1: sibling subtree hashes from the leaf up to the root."""
    if not 0 <= index < size:
        raise ValueError(f"need 0 <= index < size, got index={index} size={size}")
    # The RFC's recursion, unrolled top-down: each step appends the sibling of the half holding the leaf,
    # so the siblings come out root-first and are reversed at the end.
    siblings: list[tuple[int, int]] = []
    start, m, n = 0, index, size
    while n > 1:
        k = _split(n)
        if m < k:
            siblings.append((start + k, n - k))
            n = k
        else:
            siblings.append((start, k))
            start, m, n = start + k, m - k, n - k
    siblings.reverse()
    return _fetch(reader, siblings)


def consistency_proof(first: int, second: int, reader: NodeReader) -> list[bytes]:
    """PROOF(first, D[0:second]) of RFC 9162 §2.1.4.1, through SUBPROOF(m, D[n], b)."""
    if not 0 <= first <= second:
        raise ValueError(f"need 0 <= first <= second, got first={first} second={second}")
    if first in (0, second):
        return []  # the RFC's proof for these is empty: nothing to show
    # SUBPROOF unrolled top-down: each step adds one subtree hash after the recursive part, so they are
    # collected outermost-first and reversed; the stopping case (m == n) contributes the leading hash.
    suffix: list[tuple[int, int]] = []
    start, m, n, b = 0, first, second, True
    while m != n:
        k = _split(n)
        if m <= k:
            suffix.append((start + k, n - k))
            n = k
        else:
            suffix.append((start, k))
            start, m, n, b = start + k, m - k, n - k, False
    # When b is still true, this subtree is the whole old tree: the verifier already has its root.
    ranges = ([] if b else [(start, n)]) + suffix[::-1]
    return _fetch(reader, ranges)


# --- verification ------------------------------------------------------------------------------------------
# Proofs come from elsewhere, so verification answers False for anything malformed instead of raising.


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2, with ``leaf`` the leaf hash."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False  # proof longer than the path
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            # On the right edge, levels where this node had no sibling were skipped by the proof.
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2, plus the two trivial cases the RFC's proof generation defines as an empty proof."""
    if not 0 <= first <= second:
        return False
    if first == second:
        return not proof and first_root == second_root
    if first == 0:
        return not proof and first_root == EMPTY_ROOT
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:
        # A power-of-two old tree is a complete subtree of the new one, so the proof omits its hash.
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == first_root and sr == second_root


# --- in memory (tests and tools) ---------------------------------------------------------------------------


class MemoryNodes:
    """A NodeReader over a dict of complete-subtree hashes, standing in for the database."""

    def __init__(self, hashes: dict[Key, bytes] | None = None) -> None:
        self.hashes: dict[Key, bytes] = {} if hashes is None else hashes

    def nodes(self, keys: Collection[Key]) -> Mapping[Key, bytes]:
        # KeyError, not a default: asking for an incomplete subtree is a bug the caller must see.
        return {key: self.hashes[key] for key in keys}


def build(entries: Iterable[bytes]) -> MemoryNodes:
    """Every complete-subtree node of the tree of ``entries`` (raw entry bytes), stored as appending would."""
    leaves = [leaf_hash(entry) for entry in entries]
    return MemoryNodes(dict(appended_nodes(0, {}, leaves)))
