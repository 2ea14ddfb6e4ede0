#!/usr/bin/env bash
# Debian packages the test suites and benches need, installed only when missing:
#
#   chromium chromium-driver  headless browser tests
#   wrk                       HTTP benchmark (bench/)
#   openjdk-17-jdk-headless   compiles and runs the Java example client (examples/java/)
#   curl                      runs README.md's "Publish your first item" session
#   fonts-wqy-microhei        a Chinese font for Chromium (docs/screenshots, text the accessibility test measures)
#   nginx-light               checks deploy/nginx/sanxiang.conf and proxies through it (tests/test_deploy.py)
#
#   deploy/test-tools.sh      safe to run any number of times
#   deploy/test-tools.sh --packages   print the list above, one a line (make bundle)
#
# Unpacked from an offline bundle (make bundle), it installs from the .deb files
# in vendor/debs (these packages and what they depend on) instead of apt's sources.
#
# Nothing is printed on stdout, so it can sit in front of other commands in CI
# scripts; progress and errors go to stderr. `apt-get update` runs only when an
# install fails once (a fresh machine's package lists are empty or stale), so a
# machine that already has everything never touches the network.
set -euo pipefail

PACKAGES=(chromium chromium-driver wrk openjdk-17-jdk-headless curl fonts-wqy-microhei nginx-light)

log() { echo "test-tools: $*" >&2; }

if [ "${1:-}" = --packages ]; then
    printf '%s\n' "${PACKAGES[@]}"
    exit 0
fi
DEBS=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/vendor/debs

missing=()
for pkg in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$pkg")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
        log "need root (or sudo) to install: ${missing[*]}"
        exit 1
    fi
    SUDO=(sudo)
fi

install() {
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
}

if [ -s "$DEBS/Packages" ]; then
    # An apt source made of the bundle's folder alone: apt takes what the missing packages need from it (an
    # older installed dependency upgraded only where they need it) and nothing from the network.
    # The sources.list sits beside the lists folder, not in it: apt-get update deletes what it does not know there.
    apt_dir=$(mktemp -d)
    trap 'rm -rf "$apt_dir"' EXIT
    mkdir -p "$apt_dir/lists/partial"
    echo "deb [trusted=yes] file:$DEBS ./" >"$apt_dir/sources.list"
    local_apt=(-o Dir::Etc::SourceList="$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
        -o Dir::State::Lists="$apt_dir/lists" -o APT::Sandbox::User=root)
    log "installing ${missing[*]} from $DEBS"
    "${SUDO[@]}" apt-get "${local_apt[@]}" update -q >&2
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get "${local_apt[@]}" install -y -q --no-install-recommends "${missing[@]}" >&2
    log "done"
    exit 0
fi

log "installing ${missing[*]}"
if ! install; then
    log "install failed; refreshing package lists and trying once more"
    "${SUDO[@]}" apt-get update -q >&2
    install
fi
log "done"
