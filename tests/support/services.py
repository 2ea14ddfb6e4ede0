"""Real services for the integration suites: skip locally with a reason, fail in CI."""

from __future__ import annotations

import os
import shutil

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def require(env_var: str, what: str) -> str:
    """The URL of a service the test needs; a missing one skips locally and fails under CI=true."""
    url = os.environ.get(env_var)
    if url:
        return url
    message = f'{what} not configured: set {env_var} (eval "$(make services)")'
    if IN_CI:
        pytest.fail(f"CI=true and {message}")
    pytest.skip(message)


def require_tool(name: str, why: str) -> str:
    """The path of a command-line tool the test runs; a missing one skips locally and fails under CI=true,
    with ``why`` (what needs it, or how to install it) in the one-line reason."""
    path = shutil.which(name)
    if path:
        return path
    message = f"{name} not installed ({why})"
    if IN_CI:
        pytest.fail(f"CI=true and {message}")
    pytest.skip(message)
