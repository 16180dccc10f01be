#!/usr/bin/env bash
# The cost of one ffi_call beside a direct call (see ffi_floor.c). Needs cc and libffi-dev.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
cc -O2 -o "$out/ffi_floor" "$here/ffi_floor.c" $(pkg-config --cflags --libs libffi)
"$out/ffi_floor"
