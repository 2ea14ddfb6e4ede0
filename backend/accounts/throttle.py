"""Wrong secrets slow down the address they come from, never the account they name.

An account's name is no secret (client ids were printed in the public log, usernames are guessed), so
failures count per (account, address) and per address, never per account alone: failures from other
addresses cannot keep the rightful owner out of its own. Past ``allowed`` failures a key waits before its
next try, twice as long after each further failure (1 s, 2 s, 4 s … up to ``cap``), and such a try takes
the key's turn (set-if-absent), so tries sent in parallel get no more guesses than tries sent one by one.
Failures within the allowance are forgotten ``cap`` seconds after the first; past it, ``cap`` seconds after
the last wait ends. A success forgets the failures of its (account, address), not its address's: one valid
credential must not reset what an address has done.
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.errors import RateLimited
from backend.extensions import cache

FAILURES = "rate:secret-failures:"
TURN = "rate:secret-turn:"


@dataclass(frozen=True)
class Backoff:
    allowed: int
    cap: float

    def wait(self, failures: int) -> float:
        """Seconds a key waits for its next try after ``failures`` failures; 0 within the allowance."""
        if failures < self.allowed:
            return 0.0
        return min(2.0 ** (failures - self.allowed), self.cap)


@dataclass(frozen=True)
class Attempt:
    """One try of a secret, from ``begin``; report its outcome with ``failed`` or ``succeeded``."""

    address_key: str
    pair_key: str
    backoff: Backoff
    pair_failures: int

    def failed(self) -> None:
        for key in (self.address_key, self.pair_key):
            count = cache.incr(FAILURES + key, self.backoff.cap)
            wait = self.backoff.wait(count)
            if wait:
                cache.set(TURN + key, "1", wait)
                # Past the allowance tries take turns: only tries begun within it can race this write, and
                # at worst they set the count back by a few.
                cache.set(FAILURES + key, str(count), wait + self.backoff.cap)

    def succeeded(self) -> None:
        if self.pair_failures:
            cache.delete(FAILURES + self.pair_key)
            cache.delete(TURN + self.pair_key)


def begin(account: str, address: str | None, backoff: Backoff) -> Attempt:
    """Refuse (429 with Retry-After) while the address or the account at this address must wait."""
    address_key, pair_key = f"ip:{address}", f"{account}@{address}"
    counts = {key: int(cache.get(FAILURES + key) or 0) for key in (address_key, pair_key)}
    for key, count in counts.items():
        wait = backoff.wait(count)
        if wait and not cache.add(TURN + key, "1", wait):
            raise RateLimited(cache.ttl(TURN + key) or wait)
    return Attempt(address_key, pair_key, backoff, counts[pair_key])
