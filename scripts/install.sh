#!/usr/bin/env bash
# Builds gatewayd in release and installs what a host needs to run it without the Swift
# toolchain (docs/install.md):
#
#   $PREFIX/bin/gatewayd
#   $PREFIX/lib/gatewayd/*.so            the Swift runtime libraries the binary links (found
#                                        through its RUNPATH, $ORIGIN/../lib/gatewayd)
#   $PREFIX/include/gatewayd.h           the plugin ABI, for building C plugins on the host
#   $PREFIX/lib/pkgconfig/gatewayd.pc    for `pkg-config --cflags gatewayd` (contrib/pkgconfig)
#   $PREFIX/lib/systemd/system/gatewayd.service   contrib/systemd, with $PREFIX's paths
#   $PREFIX/share/doc/gatewayd/          README, CHANGELOG, LICENSE and docs/
#
# Usage: scripts/install.sh [--prefix DIR] [--destdir DIR] [--no-build | --binary FILE] [--strip]
#        scripts/install.sh --build-only
#   --prefix DIR   where it will live (default $PREFIX, else /usr/local)
#   --destdir DIR  stage under DIR instead of / (default $DESTDIR), e.g. to build a package
#   --build-only   build the release binary with this script's flags and install nothing: as
#                  yourself, before `sudo scripts/install.sh --no-build` (sudo resets PATH, so
#                  swift is not found under it, and a build as root leaves root-owned files in
#                  .build)
#   --no-build     install the release binary already built (with this script's flags); needs
#                  no swift on PATH (then .build/release/gatewayd)
#   --binary FILE  install this gatewayd instead of building one (e.g. built elsewhere, or a
#                  debug build for a test); its Swift runtime libraries are found with ldd
#   --strip        drop the binary's debug information and symbol table (45 MB -> 11 MB; a
#                  crash backtrace outside a plugin then names no functions)
set -euo pipefail
cd "$(dirname "$0")/.."

prefix="${PREFIX:-/usr/local}"
destdir="${DESTDIR:-}"
build=1
build_only=0
strip=0
binary=""
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix="${2:?--prefix needs a directory}"; shift 2 ;;
        --destdir) destdir="${2:?--destdir needs a directory}"; shift 2 ;;
        --build-only) build_only=1; shift ;;
        --no-build) build=0; shift ;;
        --binary) binary="${2:?--binary needs a file}"; build=0; shift 2 ;;
        --strip) strip=1; shift ;;
        -h|--help) sed -n '2,/^set -euo/{/^#/p}' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "install.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
case "$prefix" in
    /*) ;;
    *) echo "install.sh: --prefix must be an absolute path, not '$prefix'" >&2; exit 2 ;;
esac

# The runtime libraries go beside the binary's own lib directory; the RUNPATH entry is relative
# to the binary, so the tree can be staged (DESTDIR) or moved as a whole.
flags=(-c release --product gatewayd -Xlinker -rpath -Xlinker '$ORIGIN/../lib/gatewayd')
if [ "$build_only" = 1 ] && { [ "$build" = 0 ] || [ -n "$binary" ]; }; then
    echo "install.sh: --build-only goes with neither --no-build nor --binary" >&2; exit 2
fi
if [ -n "$binary" ]; then
    [ -x "$binary" ] || { echo "install.sh: --binary $binary is not an executable file" >&2; exit 1; }
else
    if [ "$build" = 1 ] && ! command -v swift >/dev/null 2>&1; then
        echo "install.sh: swift is not on PATH (under sudo, whose secure_path drops the toolchain: run scripts/install.sh --build-only as yourself first, then sudo scripts/install.sh --no-build)" >&2
        exit 1
    fi
    if [ "$build" = 1 ]; then
        swift build "${flags[@]}"
    fi
    if command -v swift >/dev/null 2>&1; then
        binary="$(swift build "${flags[@]}" --show-bin-path)/gatewayd"
    else
        binary=.build/release/gatewayd
    fi
    [ -x "$binary" ] || { echo "install.sh: no release binary at $binary (run scripts/install.sh --build-only, or without --no-build)" >&2; exit 1; }
    if [ "$build_only" = 1 ]; then
        echo "built $binary; install it with: sudo scripts/install.sh --no-build [--prefix DIR] [--strip]"
        exit 0
    fi
    # A binary from a plain `swift build` has no $ORIGIN/../lib/gatewayd in its RUNPATH, so it
    # would not find the libraries installed beside it on a host without the toolchain.
    if ! readelf -d "$binary" | grep -qF '$ORIGIN/../lib/gatewayd'; then
        echo "install.sh: $binary was not built by this script (no \$ORIGIN/../lib/gatewayd in its RUNPATH): run scripts/install.sh --build-only, then --no-build" >&2
        exit 1
    fi
fi

root="$destdir$prefix"
install -d "$root/bin" "$root/include" "$root/lib/gatewayd" "$root/lib/pkgconfig" "$root/lib/systemd/system" \
    "$root/share/doc/gatewayd/docs"
install -m 0755 "$binary" "$root/bin/gatewayd"
if [ "$strip" = 1 ]; then strip "$root/bin/gatewayd"; fi
install -m 0644 include/gatewayd.h "$root/include/gatewayd.h"
version="$("$binary" --version | head -1 | cut -d' ' -f2)"
sed -e "s|@PREFIX@|$prefix|g" -e "s|@VERSION@|$version|g" contrib/pkgconfig/gatewayd.pc.in > "$root/lib/pkgconfig/gatewayd.pc"
chmod 0644 "$root/lib/pkgconfig/gatewayd.pc"

# Every library ldd resolves into the toolchain (libswiftCore, Foundation, Dispatch, ...):
# the host has no toolchain, so they ship with gatewayd. System libraries (libc, libstdc++,
# libffi) come from Debian packages instead (docs/install.md).
swift_lib_dir="$(dirname "$(ldd "$binary" | awk '$1 == "libswiftCore.so" { print $3 }')")"
if [ -z "$swift_lib_dir" ] || [ "$swift_lib_dir" = "." ]; then
    echo "install.sh: ldd finds no libswiftCore.so for $binary; is the toolchain's lib directory in its RUNPATH?" >&2
    exit 1
fi
shipped=0
while read -r library path; do
    case "$path" in
        "$swift_lib_dir"/*) install -m 0644 "$(readlink -f "$path")" "$root/lib/gatewayd/$library"; shipped=$((shipped + 1)) ;;
    esac
done < <(ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 }')

# The unit names /usr/local/bin/gatewayd; point it at this prefix.
sed "s|/usr/local/|$prefix/|g" contrib/systemd/gatewayd.service > "$root/lib/systemd/system/gatewayd.service"
chmod 0644 "$root/lib/systemd/system/gatewayd.service"

install -m 0644 README.md CHANGELOG.md LICENSE "$root/share/doc/gatewayd/"
install -m 0644 docs/*.md docs/openapi.yaml "$root/share/doc/gatewayd/docs/"

echo "installed gatewayd $version in $root ($shipped Swift runtime libraries in $root/lib/gatewayd)"
