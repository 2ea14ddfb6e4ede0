"""One canonical JSON form, so the same content always has the same digest (idempotent writes)."""

import hashlib
import json
from collections.abc import Mapping
from typing import Any


def canonical_json(data: Mapping[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":"))


def content_digest(data: Mapping[str, Any]) -> str:
    return digest_of(data)[1]


def digest_of(data: Mapping[str, Any]) -> tuple[str, str]:
    """(canonical JSON, its digest): for callers that store the one and compare the other."""
    text = canonical_json(data)
    return text, hashlib.sha256(text.encode()).hexdigest()
