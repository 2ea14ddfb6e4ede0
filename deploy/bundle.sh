#!/usr/bin/env bash
# The offline bundle: one archive from which `make run` and `make test` work on a machine with no network.
#
#   make bundle        (PYTHON_FOR_PIP=.venv/bin/python bash deploy/bundle.sh)
#
# dist/sanxiang-bundle-<version>.tar.gz holds, under sanxiang-bundle-<version>/:
#   the source tree           git archive of HEAD (uncommitted changes are not in it)
#   vendor/wheels/            every wheel requirements.txt and requirements-test.txt need, and pip
#   vendor/elasticsearch/     the Elasticsearch zip deploy/services.sh runs (from its own Maven step)
#   vendor/debs/              deploy/test-tools.sh's Debian packages and their dependencies, with a Packages
#                             index for apt (BUNDLE_DEBS=0: none)
#   vendor/BUNDLE.txt         what was bundled, for which Python and platform
#   SHA256SUMS                sha256 of every other file (sha256sum -c SHA256SUMS)
# The unpacked tree is the project: the Makefile installs from vendor/wheels with pip --no-index, services.sh
# unpacks the bundled zip and test-tools.sh installs the bundled .deb files.
#
# Settings (environment):
#   BUNDLE_PYTHON      target Python, as X.Y            default: the Python running pip
#   BUNDLE_PLATFORMS   target wheel platforms, spaced   default: every platform tag this machine accepts
#   BUNDLE_DEBS        1 to bundle the Debian packages  default: 1
#   DIST               where the archive goes           default: dist
# Wheels come from pip's cache (~/.cache/pip) when it has them; .deb files are kept in
# ~/.cache/sanxiang-bundle/debs so a second bundle downloads only what changed. A requirement with no wheel
# for the target is bundled as its sdist beside a wheel built from it here, and BUNDLE.txt names it.
# Only stdout carries the archive's path.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PY=${PYTHON_FOR_PIP:-$ROOT/.venv/bin/python}
DIST=${DIST:-dist}
BUNDLE_DEBS=${BUNDLE_DEBS:-1}
DEB_CACHE=${DEB_CACHE:-$HOME/.cache/sanxiang-bundle/debs}

log() { printf '[bundle] %s\n' "$*" >&2; }
die() { printf '[bundle] ERROR: %s\n' "$*" >&2; exit 1; }

[[ -x $PY ]] || die "no Python at $PY (run it through make bundle, which makes the venv)"
BUNDLE_PYTHON=${BUNDLE_PYTHON:-$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')}
# pip expands only manylinux2014/2010 to older tags, so the default lists every tag this interpreter accepts.
BUNDLE_PLATFORMS=${BUNDLE_PLATFORMS:-$("$PY" -c '
from pip._vendor.packaging import tags
print(" ".join(dict.fromkeys(tag.platform for tag in tags.sys_tags())))')}

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' pyproject.toml)-$(git rev-parse --short HEAD)
name=sanxiang-bundle-$version
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stage=$work/$name
mkdir -p "$stage/vendor/wheels" "$stage/vendor/elasticsearch" "$DIST"
t0=$SECONDS

log "source: git archive of HEAD ($(git rev-parse --short HEAD))"
[[ -z $(git status --porcelain --untracked-files=no) ]] || log "note: uncommitted changes are not bundled"
git archive --format=tar HEAD | tar -x -C "$stage"

# ---------------------------------------------------------------- wheels ---
wheels=$stage/vendor/wheels
target=(--python-version "$BUNDLE_PYTHON" --implementation cp)
for platform in $BUNDLE_PLATFORMS; do target+=(--platform "$platform"); done
sdists=()
download() {
    # The bundled source's requirements (HEAD's, as archived), and pip itself: the Makefile upgrades the venv's pip from the bundle.
    "$PY" -m pip download --quiet --only-binary=:all: "${target[@]}" --find-links "$wheels" -d "$wheels" \
        -r "$stage/requirements.txt" -r "$stage/requirements-test.txt" pip 2>"$work/pip.err"
}
log "wheels for Python $BUNDLE_PYTHON on ${BUNDLE_PLATFORMS%% *} (and $(($(wc -w <<<"$BUNDLE_PLATFORMS") - 1)) more tags)"
until download; do
    # pip stops at the first requirement with no wheel for the target: bundle its sdist, build a wheel from it
    # here (found through --find-links on the next round), and go on.
    req=$(sed -n 's/.*No matching distribution found for \(.*\)$/\1/p' "$work/pip.err" | head -n1)
    [[ -n $req ]] || { cat "$work/pip.err" >&2; die "pip download failed"; }
    for done_req in "${sdists[@]}"; do
        [[ $done_req != "$req" ]] || die "$req: no wheel for the target, and the one built here does not fit it"
    done
    log "no wheel of $req for the target: bundling its sdist and a wheel built from it on this machine"
    "$PY" -m pip download --quiet --no-deps --no-binary=:all: -d "$wheels" "$req" >&2
    "$PY" -m pip wheel --quiet --no-deps --no-binary=:all: -w "$wheels" "$req" >&2
    sdists+=("$req")
done

# --------------------------------------------------------- Elasticsearch ---
bash deploy/services.sh es-zip "$stage/vendor/elasticsearch"

# ------------------------------------------------------- Debian packages ---
debs_note="none (BUNDLE_DEBS=0)"
if [[ $BUNDLE_DEBS == 1 ]]; then
    mapfile -t tools < <(bash deploy/test-tools.sh --packages)
    # The packages and everything they depend on, as apt would install them on a machine with nothing installed
    # (an empty dpkg status: one choice among alternatives, as on the target), less those of priority
    # "required" that every Debian has.
    mapfile -t closure < <(apt-get -s -q -o Dir::State::status=/dev/null install --no-install-recommends \
        "${tools[@]}" | sed -n 's/^Inst \([^ ]*\) (\([^ ]*\) .*/\1=\2/p')
    ((${#closure[@]})) || die "apt-get found no packages to bundle for ${tools[*]} (apt-get update first?)"
    # Each as "name=version file", the file named as apt-get download names it (an epoch's colon as %3a).
    mapfile -t wanted < <(apt-cache show "${closure[@]}" 2>/dev/null | awk '
        /^Package:/ {p = $2} /^Version:/ {v = $2} /^Priority:/ {r = $2} /^Architecture:/ {a = $2}
        function emit() { if (p != "" && r != "required") { f = v; sub(/:/, "%3a", f); print p "=" v " " p "_" f "_" a ".deb" } p = r = "" }
        /^$/ { emit() } END { emit() }' | sort -u)
    mkdir -p "$DEB_CACHE" "$stage/vendor/debs"
    fetch=()
    for line in "${wanted[@]}"; do
        [[ -s $DEB_CACHE/${line#* } ]] || fetch+=("${line% *}")
    done
    if ((${#fetch[@]})); then
        log "downloading ${#fetch[@]} of ${#wanted[@]} .deb files into $DEB_CACHE"
        (cd "$DEB_CACHE" && apt-get download -q -o APT::Sandbox::User=root "${fetch[@]}" >&2) || die "apt-get download failed"
    fi
    for line in "${wanted[@]}"; do
        ln "$DEB_CACHE/${line#* }" "$stage/vendor/debs/" 2>/dev/null || cp "$DEB_CACHE/${line#* }" "$stage/vendor/debs/"
    done
    # The index that lets deploy/test-tools.sh use the folder as an apt source on the offline machine.
    command -v dpkg-scanpackages >/dev/null \
        || DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends dpkg-dev >&2
    (cd "$stage/vendor/debs" && dpkg-scanpackages --multiversion . /dev/null >Packages 2>/dev/null)
    debs_note="${#wanted[@]} packages: ${tools[*]} and their dependencies ($(. /etc/os-release && echo "$PRETTY_NAME"))"
fi

{
    echo "bundle:        $name"
    echo "source:        git archive of $(git rev-parse HEAD)"
    echo "wheels for:    Python $BUNDLE_PYTHON (cp), platforms $BUNDLE_PLATFORMS"
    echo "sdists:        ${sdists[*]:-none (every requirement has a wheel for the target)}"
    echo "elasticsearch: $(cd "$stage/vendor/elasticsearch" && echo *.zip)"
    echo "debs:          $debs_note"
} >"$stage/vendor/BUNDLE.txt"
((${#sdists[@]} == 0)) || log "WARNING: no wheel for the target: ${sdists[*]} (sdists bundled, wheels built here)"

(cd "$stage" && find . -type f -printf '%P\n' | LC_ALL=C sort | xargs -d '\n' sha256sum >"$work/SHA256SUMS")
mv "$work/SHA256SUMS" "$stage/SHA256SUMS"

archive=$DIST/$name.tar.gz
# gzip -1: wheels, the zip and .deb files are compressed already; more effort buys almost nothing.
tar -C "$work" -cf - "$name" | gzip -1 >"$archive.partial"
mv "$archive.partial" "$archive"
log "$archive: $(du -h "$archive" | cut -f1), $(find "$stage" -type f | wc -l) files, in $((SECONDS - t0))s"
echo "$archive"
