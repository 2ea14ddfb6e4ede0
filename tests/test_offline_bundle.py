"""The offline installation (README.md "Offline installation"): the archive deploy/bundle.sh (``make bundle``)
writes installs, tests and serves with the network blocked, proved by deploy/offline-check.sh inside a network
namespace with only loopback. Building the bundle needs the network (PyPI through pip's cache, Maven through
~/.m2); only the check is offline."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.services import IN_CI, require_tool

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


def _need_network_namespace() -> None:
    """unshare --net needs root (CAP_SYS_ADMIN): skip locally without it, fail in CI."""
    require_tool("unshare", "util-linux")
    require_tool("ip", "iproute2")
    if os.geteuid() == 0 and subprocess.run(["unshare", "--net", "true"], capture_output=True).returncode == 0:
        return
    message = "a network namespace (unshare --net) needs root"
    if IN_CI:
        pytest.fail(f"CI=true and {message}")
    pytest.skip(message)


@pytest.fixture(scope="session")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One bundle per session, built as ``make bundle`` builds it with this interpreter's pip. Without the Debian
    packages (BUNDLE_DEBS=0): the tests run offline need none, and they are 460 MB to pack and unpack."""
    _need_network_namespace()
    dist = tmp_path_factory.mktemp("dist")
    built = subprocess.run(
        ["bash", "deploy/bundle.sh"],
        cwd=ROOT,
        env={**os.environ, "PYTHON_FOR_PIP": sys.executable, "DIST": str(dist), "BUNDLE_DEBS": "0"},
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr
    archive = Path(built.stdout.strip())
    yield archive
    # pytest keeps the last few sessions' temporary folders: not a quarter of a gigabyte each.
    archive.unlink()


def test_bundle_installs_tests_and_serves_with_no_network(bundle: Path) -> None:
    checked = subprocess.run(
        ["bash", "deploy/offline-check.sh", str(bundle)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    output = checked.stdout + checked.stderr
    assert checked.returncode == 0, output
    assert "--no-index --find-links vendor/wheels" in output
    assert " passed in " in output and " failed" not in output
    assert "make run answered /healthz: 200" in output
