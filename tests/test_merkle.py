"""backend.transparency.merkle against three references it does not share code with:

1. a naive implementation written straight from RFC 9162 §2.1's recursive definitions (MTH, PATH, SUBPROOF),
2. the RFC 6962 test vectors published with Certificate Transparency's Merkle tree tests,
3. github.com/transparency-dev/merkle (Go), through tools/merkle_check. Without `go` on PATH those tests
   skip locally and fail under CI=true.
"""

from __future__ import annotations

import hashlib
import math
import random
import time
from collections.abc import Collection, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from backend.transparency import merkle
from backend.transparency.merkle import Key
from tests.support.go_merkle import run_go, to_go

# The RFC 6962 test leaves used by Certificate Transparency's merkle tree tests (and by transparency-dev/merkle).
CT_LEAVES = [
    bytes.fromhex(h)
    for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f")
]
# Roots of the first 1..8 of those leaves, as github.com/transparency-dev/merkle v0.0.2 computes them
# (tools/merkle_check, "root" checks); they equal testonly.RootHashes() in that library, which carries the
# values published in certificate-transparency's merkle_tree_test. Not produced by backend.transparency.merkle.
CT_ROOTS = {
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}


@pytest.fixture(autouse=True)
def fresh_cache():
    """Overrides conftest's autouse fixture: nothing here needs the Flask app or a database."""
    yield


# --- the naive reference: RFC 9162 §2.1, transcribed -------------------------------------------------------


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def largest_power_of_two_below(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(d: Sequence[bytes]) -> bytes:
    n = len(d)
    if n == 0:
        return sha256(b"")
    if n == 1:
        return sha256(b"\x00" + d[0])
    k = largest_power_of_two_below(n)
    return sha256(b"\x01" + mth(d[:k]) + mth(d[k:]))


def path(m: int, d: Sequence[bytes]) -> list[bytes]:
    n = len(d)
    if n == 1:
        return []
    k = largest_power_of_two_below(n)
    if m < k:
        return [*path(m, d[:k]), mth(d[k:])]
    return [*path(m - k, d[k:]), mth(d[:k])]


def subproof(m: int, d: Sequence[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [mth(d)]
    k = largest_power_of_two_below(n)
    if m <= k:
        return [*subproof(m, d[:k], b), mth(d[k:])]
    return [*subproof(m - k, d[k:], False), mth(d[:k])]


def proof(m: int, d: Sequence[bytes]) -> list[bytes]:
    return subproof(m, d, True)


def path_length(m: int, n: int) -> int:
    """len(PATH(m, D[n])), following PATH's recursion without hashing anything."""
    if n == 1:
        return 0
    k = largest_power_of_two_below(n)
    return 1 + (path_length(m, k) if m < k else path_length(m - k, n - k))


def proof_length(m: int, n: int, b: bool = True) -> int:
    """len(PROOF(m, D[n])), following SUBPROOF's recursion without hashing anything."""
    if m == n:
        return 0 if b else 1
    k = largest_power_of_two_below(n)
    return 1 + (proof_length(m, k, b) if m <= k else proof_length(m - k, n - k, False))


# --- helpers -----------------------------------------------------------------------------------------------


def entries(n: int, seed: int = 0) -> list[bytes]:
    """Entries of varied lengths (including empty), so leaf hashing is exercised too."""
    rnd = random.Random(seed)
    return [rnd.randbytes(rnd.randint(0, 40)) for _ in range(n)]


class CountingReader:
    """Records each nodes() call, to hold the module to one round trip of O(log n) keys."""

    def __init__(self, inner: merkle.MemoryNodes) -> None:
        self.inner = inner
        self.calls: list[set[Key]] = []

    def nodes(self, keys: Collection[Key]) -> Mapping[Key, bytes]:
        self.calls.append(set(keys))
        return self.inner.nodes(keys)


def one_trip(size: int, reader: CountingReader) -> None:
    assert len(reader.calls) == 1
    # Two decompositions at most: the path's O(log n) perfect siblings plus one right-edge range.
    assert len(reader.calls[0]) <= 2 * max(size.bit_length(), 1)
    reader.calls.clear()


def flip(data: bytes, at: int = 0) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def complete_subtrees(size: int) -> set[Key]:
    return {(level, index) for level in range(size.bit_length()) for index in range(size >> level)}


# --- hashing basics and the shape of the stored tree -------------------------------------------------------


def test_hashes_have_the_rfc_prefixes():
    assert merkle.EMPTY_ROOT == sha256(b"") == mth([])
    assert merkle.leaf_hash(b"abc") == sha256(b"\x00abc")
    assert merkle.node_hash(b"L" * 32, b"R" * 32) == sha256(b"\x01" + b"L" * 32 + b"R" * 32)


def test_root_keys_are_the_binary_decomposition():
    assert merkle.root_keys(0) == []
    assert merkle.root_keys(1) == [(0, 0)]
    assert merkle.root_keys(8) == [(3, 0)]
    assert merkle.root_keys(13) == [(3, 0), (2, 2), (0, 12)]
    assert merkle.append_keys(13) == merkle.root_keys(13)
    with pytest.raises(ValueError):
        merkle.root_keys(-1)


def test_stored_nodes_are_exactly_the_complete_subtrees():
    d = entries(70)
    for size in range(71):
        tree = merkle.build(d[:size])
        assert set(tree.hashes) == complete_subtrees(size)
        for (level, index), value in tree.hashes.items():
            assert value == mth(d[index << level : (index + 1) << level])


def test_appending_in_batches_stores_what_appending_one_by_one_does():
    rnd = random.Random(7)
    leaves = [merkle.leaf_hash(e) for e in entries(600, seed=7)]
    one_by_one: list[tuple[Key, bytes]] = []
    stored: dict[Key, bytes] = {}
    for size, leaf in enumerate(leaves):
        new = merkle.appended_nodes(size, {k: stored[k] for k in merkle.append_keys(size)}, [leaf])
        one_by_one.extend(new)
        stored.update(new)
    for _ in range(20):
        batched: list[tuple[Key, bytes]] = []
        tree = merkle.MemoryNodes()
        size = 0
        while size < len(leaves):
            batch = leaves[size : size + rnd.choice([0, 1, 2, 3, 5, 8, 31, 64, 100, 257])]
            new = merkle.appended_nodes(size, tree.nodes(merkle.append_keys(size)), batch)
            batched.extend(new)
            tree.hashes.update(new)
            size += len(batch)
        assert batched == one_by_one
    assert dict(one_by_one) == merkle.build(entries(600, seed=7)).hashes


# --- against the naive reference ---------------------------------------------------------------------------


def test_every_root_and_proof_up_to_70_leaves_matches_the_rfc():
    d = entries(70, seed=1)
    for size in range(1, 71):
        reader = CountingReader(merkle.build(d[:size]))
        expected_root = mth(d[:size])
        assert merkle.root(size, reader) == expected_root
        one_trip(size, reader)
        for index in range(size):
            got = merkle.inclusion_proof(index, size, reader)
            one_trip(size, reader)
            assert got == path(index, d[:size]), (index, size)
            assert merkle.verify_inclusion(merkle.leaf_hash(d[index]), index, size, got, expected_root)
        for first in range(1, size):
            got = merkle.consistency_proof(first, size, reader)
            one_trip(size, reader)
            assert got == proof(first, d[:size]), (first, size)
            assert merkle.verify_consistency(first, size, mth(d[:first]), expected_root, got)


@pytest.mark.parametrize("size", [1000, 1023, 1024, 1025, 4097])
def test_larger_trees_match_the_rfc_at_sampled_indexes(size):
    d = entries(size, seed=size)
    rnd = random.Random(size)
    reader = CountingReader(merkle.build(d))
    expected_root = mth(d)
    assert merkle.root(size, reader) == expected_root
    one_trip(size, reader)
    edges = [0, 1, size // 2, size - 2, size - 1, 511, 512, 1023]
    for index in sorted({i for i in edges if 0 <= i < size} | set(rnd.sample(range(size), 8))):
        got = merkle.inclusion_proof(index, size, reader)
        one_trip(size, reader)
        assert got == path(index, d), index
        assert merkle.verify_inclusion(merkle.leaf_hash(d[index]), index, size, got, expected_root)
    for first in sorted({i for i in edges if 0 < i < size} | set(rnd.sample(range(1, size), 8))):
        got = merkle.consistency_proof(first, size, reader)
        one_trip(size, reader)
        assert got == proof(first, d), first
        assert merkle.verify_consistency(first, size, mth(d[:first]), expected_root, got)


def test_trivial_consistency_proofs_are_empty_and_need_no_nodes():
    d = entries(5)
    reader = CountingReader(merkle.build(d))
    assert merkle.consistency_proof(0, 5, reader) == []
    assert merkle.consistency_proof(5, 5, reader) == []
    assert merkle.consistency_proof(0, 0, reader) == []
    assert merkle.root(0, reader) == merkle.EMPTY_ROOT
    assert reader.calls == []
    assert merkle.verify_consistency(0, 5, merkle.EMPTY_ROOT, mth(d), [])
    assert merkle.verify_consistency(5, 5, mth(d), mth(d), [])
    assert not merkle.verify_consistency(5, 5, mth(d), mth(d[:4]), [])
    assert not merkle.verify_consistency(5, 5, mth(d), mth(d), [mth(d)])
    assert not merkle.verify_consistency(0, 5, merkle.EMPTY_ROOT, mth(d), [mth(d)])


def test_out_of_range_arguments_raise():
    tree = merkle.build(entries(10))
    for index, size in [(10, 10), (11, 10), (-1, 10), (0, 0)]:
        with pytest.raises(ValueError):
            merkle.inclusion_proof(index, size, tree)
    for first, second in [(11, 10), (-1, 10), (1, 0)]:
        with pytest.raises(ValueError):
            merkle.consistency_proof(first, second, tree)
    with pytest.raises(ValueError):
        merkle.root(-1, tree)


def test_asking_beyond_the_stored_tree_is_an_error_not_a_wrong_answer():
    tree = merkle.build(entries(10))
    with pytest.raises(KeyError):
        merkle.root(11, tree)
    with pytest.raises(KeyError):
        merkle.inclusion_proof(3, 12, tree)


# --- published vectors -------------------------------------------------------------------------------------


def test_certificate_transparency_roots():
    for size, expected in CT_ROOTS.items():
        assert merkle.root(size, merkle.build(CT_LEAVES[:size])).hex() == expected
        assert mth(CT_LEAVES[:size]).hex() == expected  # the naive reference agrees too


# --- proofs, good and tampered -----------------------------------------------------------------------------


def proof_cases(d: Sequence[bytes], tree: merkle.MemoryNodes, size: int, indexes, firsts) -> Iterator[dict[str, Any]]:
    """Checks for the module's proofs in a tree of ``size`` leaves, each with whether it must verify.

    Hashes stay bytes here; ``to_go`` hex-encodes them for merkle_check.
    """
    roots = {n: merkle.root(n, tree) for n in {size, *firsts} if n}
    roots[0] = merkle.EMPTY_ROOT
    for index in indexes:
        leaf = merkle.leaf_hash(d[index])
        good = dict(kind="inclusion", leaf_hash=leaf, index=index, size=size, root=roots[size])
        good["proof"] = merkle.inclusion_proof(index, size, tree)
        yield {**good, "expect": True}
        for at in range(len(good["proof"])):
            tampered = list(good["proof"])
            tampered[at] = flip(tampered[at], at % 32)
            yield {**good, "proof": tampered, "expect": False}
        yield {**good, "root": flip(roots[size]), "expect": False}
        yield {**good, "leaf_hash": flip(leaf, 31), "expect": False}
        if size > 1:
            yield {**good, "index": (index + 1) % size, "expect": False}
        # Claiming another size: the same hashes may still fold to the root, so only the tree's shape (the
        # proof length the size implies) can expose the lie; that is what the verifier's size check is for.
        for other in (size - 1, size + 1):
            if index < other and path_length(index, other) != path_length(index, size):
                yield {**good, "size": other, "expect": False}
        if good["proof"]:
            yield {**good, "proof": good["proof"][:-1], "expect": False}
        yield {**good, "proof": [*good["proof"], roots[size]], "expect": False}
    for first in firsts:
        good = dict(kind="consistency", first=first, second=size, first_root=roots[first], second_root=roots[size])
        good["proof"] = merkle.consistency_proof(first, size, tree)
        yield {**good, "expect": True}
        if not 0 < first < size:
            continue  # the proof is empty: nothing to tamper with beyond the roots
        for at in range(len(good["proof"])):
            tampered = list(good["proof"])
            tampered[at] = flip(tampered[at], at % 32)
            yield {**good, "proof": tampered, "expect": False}
        yield {**good, "first_root": flip(roots[first]), "expect": False}
        yield {**good, "second_root": flip(roots[size]), "expect": False}
        yield {**good, "first": first + 1 if first + 1 < size else first - 1, "expect": False}
        for other in (size - 1, size + 1):
            if first < other and proof_length(first, other) != proof_length(first, size):
                yield {**good, "second": other, "expect": False}
        yield {**good, "proof": good["proof"][:-1], "expect": False}
        yield {**good, "proof": [*good["proof"], roots[size]], "expect": False}


def python_verdict(case: dict[str, Any]) -> bool:
    if case["kind"] == "inclusion":
        return merkle.verify_inclusion(case["leaf_hash"], case["index"], case["size"], case["proof"], case["root"])
    return merkle.verify_consistency(
        case["first"], case["second"], case["first_root"], case["second_root"], case["proof"]
    )


def exhaustive_cases(max_size: int) -> list[dict[str, Any]]:
    d = entries(max_size, seed=3)
    cases = []
    for size in range(1, max_size + 1):
        tree = merkle.build(d[:size])
        cases.extend(proof_cases(d, tree, size, range(size), range(size + 1)))
    return cases


def sampled_cases(size: int, samples: int) -> list[dict[str, Any]]:
    d = entries(size, seed=size)
    rnd = random.Random(size)
    tree = merkle.build(d)
    indexes = {0, size - 1, *rnd.sample(range(size), samples)}
    firsts = {1, size - 1, *(f for f in (1024, 8192) if f < size), *rnd.sample(range(1, size), samples)}
    return list(proof_cases(d, tree, size, sorted(indexes), sorted(firsts)))


def test_python_verifiers_accept_good_proofs_and_reject_tampered_ones():
    cases = exhaustive_cases(24) + sampled_cases(3000, 30)
    assert sum(c["expect"] for c in cases) > 600
    for case in cases:
        assert python_verdict(case) is case["expect"], case


def test_verifiers_reject_nonsense_arguments():
    h = merkle.EMPTY_ROOT
    assert not merkle.verify_inclusion(h, 0, 0, [], h)
    assert not merkle.verify_inclusion(h, -1, 4, [h, h], h)
    assert not merkle.verify_consistency(4, 3, h, h, [h])
    assert not merkle.verify_consistency(-1, 3, h, h, [h])
    assert not merkle.verify_consistency(2, 3, h, h, [])


# --- against transparency-dev/merkle (Go) ------------------------------------------------------------------


def assert_go_agrees(binary: Path, cases: list[dict[str, Any]]) -> None:
    results = run_go(binary, [to_go(case) for case in cases])
    wrong = [
        (to_go(case), result) for case, result in zip(cases, results, strict=True) if result["ok"] != case["expect"]
    ]
    assert not wrong, f"{len(wrong)} of {len(cases)} disagree, first: {wrong[0]}"
    for case in cases:  # and the Python verifiers reach the same verdicts
        assert python_verdict(case) is case["expect"], to_go(case)


def test_go_library_gives_the_published_roots(merkle_check):
    checks = [{"kind": "root", "leaves_hex": [e.hex() for e in CT_LEAVES[:n]], "root": r} for n, r in CT_ROOTS.items()]
    results = run_go(merkle_check, checks)
    assert [r["root"] for r in results] == list(CT_ROOTS.values())
    assert all(r["ok"] for r in results)


def test_go_library_computes_the_same_roots(merkle_check):
    d = entries(300, seed=5)
    sizes = [*range(41), 255, 256, 257, 300]
    checks = [{"kind": "root", "leaves_hex": [e.hex() for e in d[:n]], "root": ""} for n in sizes]
    results = run_go(merkle_check, checks)
    for size, result in zip(sizes, results, strict=True):
        expected = merkle.root(size, merkle.build(d[:size])) if size else merkle.EMPTY_ROOT
        assert result["root"] == expected.hex(), size
    assert not run_go(merkle_check, [{**checks[5], "root": merkle.EMPTY_ROOT.hex()}])[0]["ok"]


def test_go_library_accepts_every_proof_up_to_40_leaves_and_rejects_tampering(merkle_check):
    cases = exhaustive_cases(40)
    assert sum(c["expect"] for c in cases) == sum(2 * n + 1 for n in range(1, 41))
    assert_go_agrees(merkle_check, cases)


def test_go_library_accepts_sampled_proofs_at_10000_leaves(merkle_check):
    cases = sampled_cases(10_000, 300)
    assert sum(c["expect"] for c in cases) > 500
    assert_go_agrees(merkle_check, cases)


def test_go_tool_reports_bad_input_per_check(merkle_check):
    results = run_go(merkle_check, [{"kind": "inclusion", "leaf_hash": "zz"}, {"kind": "other"}])
    assert [r["ok"] for r in results] == [False, False]
    assert all(r["error"] for r in results)


# --- speed -------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_speed_at_a_million_leaves():
    """Prints timings (not asserted: machines differ); run with -s to see them."""
    size = 1_000_000
    rnd = random.Random(11)
    leaves = [rnd.randbytes(32) for _ in range(size)]
    tree = merkle.MemoryNodes()
    started = time.perf_counter()
    done = 0
    while done < size:
        batch = leaves[done : done + rnd.randint(1, 10_000)]
        tree.hashes.update(merkle.appended_nodes(done, tree.nodes(merkle.append_keys(done)), batch))
        done += len(batch)
    build_seconds = time.perf_counter() - started
    assert len(tree.hashes) == 2 * size - size.bit_count()

    indexes = [rnd.randrange(size) for _ in range(500)]
    firsts = [rnd.randrange(1, size) for _ in range(500)]
    calls: dict[str, Any] = {
        "root": lambda reader, i: merkle.root(size - i, reader),
        "inclusion_proof": lambda reader, i: merkle.inclusion_proof(indexes[i], size, reader),
        "consistency_proof": lambda reader, i: merkle.consistency_proof(firsts[i], size, reader),
    }
    timings = {}
    for name, call in calls.items():
        started = time.perf_counter()
        for i in range(500):
            call(tree, i)
        timings[name] = (time.perf_counter() - started) / 500 * 1e6

    counting = CountingReader(tree)
    for call in calls.values():
        for i in range(0, 500, 10):
            call(counting, i)
    assert len(counting.calls) == 150  # one round trip each
    most_keys = max(len(keys) for keys in counting.calls)
    assert most_keys <= 2 * math.ceil(math.log2(size))
    print(f"\nmerkle at {size:,} leaves: built in {build_seconds:.1f} s via appended_nodes in batches")
    for name, micros in timings.items():
        print(f"  {name}: {micros:.1f} µs per call")
    print(f"  most nodes read by one call: {most_keys}")
