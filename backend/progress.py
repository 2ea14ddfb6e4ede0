"""Progress bars for the long CLI jobs (``search reindex``, ``transparency verify``, ``audit verify``): tqdm,
on stderr, with the rate and, when the total is known, the time left. Shown when stderr is a terminal or the
command is given ``--progress`` (a job run by cron with its output kept in a file prints no bar); what the job
prints on stdout when it ends is the same either way.

A service that runs long takes a ``track`` argument (:data:`Track`): it passes its main loop's items through
it, with their total. Called from anywhere else, ``untracked`` leaves them as they are.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import click
from tqdm import tqdm

T = TypeVar("T")
Track = Callable[[Iterable[Any], "int | None"], Iterable[Any]]

progress_option = click.option(
    "--progress", "progress", is_flag=True, help="Show a progress bar on stderr even when it is not a terminal."
)


def untracked(items: Iterable[T], _total: int | None = None) -> Iterable[T]:
    return items


def bar(label: str, unit: str, forced: bool) -> Track:
    """A ``track`` showing a bar named ``label`` counting ``unit``s, when stderr is a terminal or ``forced``."""
    shown = forced or sys.stderr.isatty()

    def track(items: Iterable[T], total: int | None = None) -> Iterable[T]:
        if not shown:
            return items
        return tqdm(items, total=total, desc=label, unit=unit, file=sys.stderr, mininterval=0.5, dynamic_ncols=True)

    return track
