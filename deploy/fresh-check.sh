#!/usr/bin/env bash
# Proves README's promise on this machine: with only Python and `make`, `make test` passes.
#
# A new virtual environment in a temporary folder, an environment that names no service and is not
# CI, and a PATH that holds only Python, make and the few commands the Makefile's recipes call; so the
# Debian test tools (go, node, chromium, wrk) are out of reach and the tests that need one skip with
# a reason, as on a newcomer's machine. Prints pytest's own summary; exits with its status.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# shellcheck source=deploy/minimal-path.sh
source "$(dirname "${BASH_SOURCE[0]}")/minimal-path.sh"
minimal_bin "$WORK/bin"

echo "fresh-check: a new virtual environment, PATH=$WORK/bin (python3, make), no services" >&2
env -i HOME="$WORK" PATH="$WORK/bin" LANG=C.UTF-8 TMPDIR="${TMPDIR:-/tmp}" \
    make -C "$ROOT" --no-print-directory VENV="$WORK/venv" PYTEST_ARGS="-p no:cacheprovider -q" test
