#!/usr/bin/env bash
# Proves an offline bundle (make bundle) installs and runs with no network:
#
#   bash deploy/offline-check.sh dist/sanxiang-bundle-<version>.tar.gz
#
# Unpacks the archive in a temporary folder, checks SHA256SUMS, then in a network namespace of its own (only
# loopback, brought up) and, as deploy/fresh-check.sh does, with an empty environment and a PATH holding only
# Python, make and the commands the Makefile's recipes call: `make test` on a few test files
# (OFFLINE_PYTEST_ARGS), then `make run` until /healthz answers, then stops it. Any attempt to reach PyPI or
# Maven fails there, so a passing run means the bundle is enough. Needs root and util-linux's unshare.
set -euo pipefail

archive=$(realpath "${1:?usage: offline-check.sh ARCHIVE}")
OFFLINE_PYTEST_ARGS=${OFFLINE_PYTEST_ARGS:-tests/test_errors.py tests/test_badge_card.py}
# Inside its own namespace no port can clash; one ending in 2 all the same (offline21's range).
OFFLINE_PORT=${OFFLINE_PORT:-60802}
HEALTH_TIMEOUT=${HEALTH_TIMEOUT:-180}

log() { printf 'offline-check: %s\n' "$*" >&2; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
tar -xzf "$archive" -C "$WORK"
tree=$(find "$WORK" -mindepth 1 -maxdepth 1 -type d -name 'sanxiang-bundle-*')
[[ -d $tree ]] || { log "no sanxiang-bundle-* folder in $archive"; exit 1; }
(cd "$tree" && sha256sum --quiet -c SHA256SUMS) || { log "SHA256SUMS does not match"; exit 1; }
log "unpacked $(basename "$tree"): every file matches SHA256SUMS"

# shellcheck source=deploy/minimal-path.sh
source "$(dirname "${BASH_SOURCE[0]}")/minimal-path.sh"
minimal_bin "$WORK/bin"

# Runs inside the namespace; its arguments come after `bash -c script`.
inner='
set -euo pipefail
work=$1 tree=$2 port=$3 timeout=$4 pytest_args=$5
ip link set lo up
clean_env=(env -i HOME="$work" PATH="$work/bin" LANG=C.UTF-8 TMPDIR="$work")
echo "offline-check: no network but loopback: $(ip -brief link | tr -s " " | paste -sd ";")" >&2
"${clean_env[@]}" make -C "$tree" --no-print-directory PYTEST_ARGS="-p no:cacheprovider -q $pytest_args" test
# Its own process group (set -m), so that stopping it stops gunicorn and its workers too.
set -m
"${clean_env[@]}" make -C "$tree" --no-print-directory PORT="$port" run >"$work/run.log" 2>&1 &
server=$!
set +m
answer=$("$tree/.venv/bin/python" - "$port" "$timeout" <<"PY"
import sys, time, urllib.request
port, timeout = sys.argv[1], float(sys.argv[2])
deadline = time.monotonic() + timeout
while True:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            print(response.status, response.read().decode())
            break
    except OSError:
        if time.monotonic() > deadline:
            sys.exit(f"no answer from /healthz after {timeout:.0f}s")
        time.sleep(1)
PY
) || { tail -n 40 "$work/run.log" >&2; kill -TERM -- -$server; exit 1; }
echo "offline-check: make run answered /healthz: $answer" >&2
kill -TERM -- -$server
wait $server || true
'
log "make test ($OFFLINE_PYTEST_ARGS) and make run, inside unshare --net"
unshare --net --pid --fork --kill-child --mount-proc \
    bash -c "$inner" offline-check "$WORK" "$tree" "$OFFLINE_PORT" "$HEALTH_TIMEOUT" "$OFFLINE_PYTEST_ARGS"
log "passed"
