"""The independent Merkle checker: transparency-dev/merkle (Go) behind a JSON stdin/stdout tool."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.services import require_tool

TOOL_DIR = Path(__file__).resolve().parents[2] / "tools" / "merkle_check"


def build_merkle_check(directory: Path) -> Path:
    go = require_tool("go", "the independent Merkle checker, tools/merkle_check, is Go")
    binary = directory / "merkle_check"
    built = subprocess.run(
        [go, "build", "-o", str(binary), "."], cwd=TOOL_DIR, capture_output=True, text=True, timeout=600
    )
    if built.returncode != 0:
        pytest.fail(f"go build of tools/merkle_check failed:\n{built.stderr}")
    return binary


def to_go(case: dict[str, Any]) -> dict[str, Any]:
    def encode(value: Any) -> Any:
        if isinstance(value, bytes):
            return value.hex()
        if isinstance(value, list):
            return [encode(v) for v in value]
        return value

    return {key: encode(value) for key, value in case.items() if key != "expect"}


def run_go(binary: Path, checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    completed = subprocess.run(
        [str(binary)], input=json.dumps(checks), capture_output=True, text=True, timeout=300, check=False
    )
    assert completed.returncode == 0, completed.stderr
    results = json.loads(completed.stdout)
    assert len(results) == len(checks)
    return results
