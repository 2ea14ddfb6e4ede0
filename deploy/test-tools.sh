#!/usr/bin/env bash
# Debian packages the test suites and benches need, installed only when missing:
#
#   chromium chromium-driver  headless browser tests
#   wrk                       HTTP benchmark (bench/)
#   openjdk-17-jdk-headless   compiles and runs the Java example client (examples/java/)
#   curl                      runs README.md's "Publish your first item" session
#   fonts-wqy-microhei        a Chinese font for Chromium (docs/screenshots, text the accessibility test measures)
#
#   deploy/test-tools.sh      safe to run any number of times
#   deploy/test-tools.sh --packages   print the list above, one a line (make bundle)
#
# Unpacked from an offline bundle (make bundle), it installs the .deb files in
# vendor/debs (these packages and what they depend on) instead of asking apt's
# sources.
#
# Nothing is printed on stdout, so it can sit in front of other commands in CI
# scripts; progress and errors go to stderr. `apt-get update` runs only when an
# install fails once (a fresh machine's package lists are empty or stale), so a
# machine that already has everything never touches the network.
set -euo pipefail

PACKAGES=(chromium chromium-driver wrk openjdk-17-jdk-headless curl fonts-wqy-microhei)

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

if compgen -G "$DEBS/*.deb" >/dev/null; then
    log "installing ${missing[*]} from $DEBS"
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "$DEBS"/*.deb >&2
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
