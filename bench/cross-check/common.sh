# Shared by the cross-check scripts: paths, a release gatewayd, conformance plugins.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bin=$root/.build-release/release/gatewayd
wsload=${WSLOAD:-/tmp/wsload/wsload}
work=$(mktemp -d /tmp/gwd-crosscheck-XXXXXX)
trap '"$bin" stop --run-dir "$work/run" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
[ -x "$wsload" ] || { echo "wsload not found at $wsload (build ../shared/tools/wsload, set WSLOAD)" >&2; exit 1; }
[ -x "$bin" ] || swift build -c release --package-path "$root" --scratch-path "$root/.build-release" --product gatewayd
# conformance_plugin VERSION: the C conformance plugin with CONFORMANCE_VERSION set.
conformance_plugin() {
    sed "s/#define CONFORMANCE_VERSION \"1\"/#define CONFORMANCE_VERSION \"$1\"/" \
        "$root/plugins/conformance-c/conformance.c" > "$work/conformance-v$1.c"
    "$bin" plugin build "$work/conformance-v$1.c" -o "$work/conformance-v$1.so" > /dev/null
    echo "$work/conformance-v$1.so"
}
# start_cluster PLUGIN: 1 gateway + 2 workers on free ports; sets $port.
start_cluster() {
    "$bin" start -d --run-dir "$work/run" --plugin "$1" --listen websocket://127.0.0.1:0 \
        --register 127.0.0.1:0 --start-port 0 --gateway-count 1 --worker-count 2 > "$work/ready"
    port=$(grep -o 'listen=websocket://127.0.0.1:[0-9]*' "$work/ready" | cut -d: -f3)
}
