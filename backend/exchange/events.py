"""The event types an exchange client can subscribe to: one list, read by the push API and ``push.enqueue``."""

from __future__ import annotations

from pathlib import Path

SCHEMAS = Path(__file__).parent / "json_schemas"

# Every event of the transparency log the changes feed carries has its JSON Schema here (``change.json`` is
# the envelope they share), so the files are the list: a new log event gets a schema, and push carries it.
LOG_EVENTS = frozenset(path.stem for path in SCHEMAS.glob("*.json")) - {"change"}

# Events other exchange code owes its clients through ``push.enqueue``, with what their ``data`` holds.
DIRECT_EVENTS: dict[str, str] = {
    "workorder.status": "a 12345 work order's status changed (受理, 回复, 办结, 退回), in the hotline's shape",
}


# What a hotline client may subscribe to: its own work orders' status, never the log's events (a hotline does
# not read the feed, by push or otherwise).
HOTLINE_EVENTS = frozenset({"workorder.status"})


def event_types() -> frozenset[str]:
    return LOG_EVENTS | frozenset(DIRECT_EVENTS)
