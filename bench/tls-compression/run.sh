#!/usr/bin/env bash
# What permessage-deflate and TLS cost and save (issue 18), each against plain WebSocket on the
# same gatewayd (1 gateway + 2 workers, C conformance plugin; listeners websocket:// and wss://,
# compression: true) driven by gwload, alternately, so both sides of each ratio are measured
# in the same conditions:
#   broadcast  2000 receivers, a 1 KiB chat-like JSON message at 60 broadcasts/s (120 000
#              deliveries/s, which both sides sustain): server CPU per delivery, bytes on the
#              wire per delivery (frames as the clients receive them)
#   echo       100 connections × 8 in flight, 64 B (`echo:` + filler): server CPU per message
#   idle       10 000 connections opened (200 at a time) and held: gateway RSS per connection,
#              and the gateway's CPU per connection set up (accept, TLS handshake, upgrade)
# --compare deflate: "off" is a client that does not offer permessage-deflate (it gets plain
#   frames from the same server), "on" is gwload --deflate.
# --compare tls: "off" is ws:// to the plain listener, "on" is wss:// to the TLS one (ECDSA
#   P-256 certificate, TLS 1.3 as negotiated by swift-nio-ssl's BoringSSL client).
#
#   [NO_BUILD=1] bench/tls-compression/run.sh --compare deflate|tls [--runs N] [--seconds S] [--only broadcast,echo,idle]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
runs=3
seconds=5
only="broadcast,echo,idle"
compare=""
while [ $# -gt 0 ]; do
    case $1 in
        --compare) compare=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        --seconds) seconds=$2; shift 2 ;;
        --only) only=$2; shift 2 ;;
        *) echo "tls-compression/run.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
[[ "$compare" == deflate || "$compare" == tls ]] || { echo "tls-compression/run.sh: --compare deflate or --compare tls" >&2; exit 2; }
work=$(mktemp -d /tmp/gwd-tls-compression-XXXXXX)
gatewayd=${GATEWAYD:-$root/.build-release/release/gatewayd}
cleanup() { "$gatewayd" stop --run-dir "$work/run" > /dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)"

# NO_BUILD=1: use the release builds as they are (e.g. while other builds are paused).
if [ -z "${NO_BUILD:-}" ]; then
    swift build -c release --package-path "$root" --scratch-path "$root/.build-release" --product gatewayd > /dev/null
    swift build -c release --package-path "$root/bench" --product gwload > /dev/null
fi
gwload=$root/bench/.build/release/gwload
"$gatewayd" plugin build "$root/plugins/conformance-c/conformance.c" -o "$work/conformance.so" > /dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=bench \
    -keyout "$work/key.pem" -out "$work/cert.pem" 2> /dev/null
cat > "$work/gatewayd.yaml" << YAML
compression: true
ping_interval: 0
max_connections: 20000
tls_certificate: cert.pem
tls_private_key: key.pem
YAML
# start RUN_DIR: a cluster; sets plain_port, tls_port, pids (gateway and workers) and gateway_pid.
start() {
    "$gatewayd" start -d --config "$work/gatewayd.yaml" --run-dir "$1" --plugin "$work/conformance.so" \
        --listen websocket://127.0.0.1:0 --listen wss://127.0.0.1:0 --register 127.0.0.1:0 --start-port 0 \
        --gateway-count 1 --worker-count 2 > "$work/start.out"
    plain_port=$(sed -n 's/.*listen=websocket:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$work/start.out")
    tls_port=$(sed -n 's/.*wss:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$work/start.out")
    local status
    status=$("$gatewayd" status --json --run-dir "$1")
    pids=$(python3 -c 'import json,sys; print(",".join("%s:%d" % (p["role"], p["pid"]) for p in json.load(sys.stdin)["processes"] if p["role"] in ("gateway","worker")))' <<< "$status")
    gateway_pid=$(python3 -c 'import json,sys; print([p["pid"] for p in json.load(sys.stdin)["processes"] if p["role"]=="gateway"][0])' <<< "$status")
}
start "$work/run"
echo "machine: $(nproc) cores, $(uname -r); $($gatewayd --version | head -1); comparing $compare; ws://127.0.0.1:$plain_port wss://127.0.0.1:$tls_port"

rss() { awk '/VmRSS/ {print $2 * 1024}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
ticks_per_second=$(getconf CLK_TCK)
results=$work/results.jsonl
for run in $(seq "$runs"); do
    for side in off on; do
        url="ws://127.0.0.1:$plain_port/"
        flag=()
        if [ "$side" = on ]; then
            if [ "$compare" = deflate ]; then flag=(--deflate); else url="wss://127.0.0.1:$tls_port/"; fi
        fi
        record() { echo "{\"workload\":\"$1\",\"side\":\"$side\",\"run\":$run,\"r\":$2}" >> "$results"; }
        if [[ ",$only," == *",broadcast,"* ]]; then
            record broadcast-1k "$("$gwload" broadcast --url "$url" --receivers 2000 --size 1024 --rate 60 -d "$seconds" --pids "$pids" "${flag[@]}" 2> /dev/null | tail -1)"
        fi
        if [[ ",$only," == *",echo,"* ]]; then
            record echo-8 "$("$gwload" echo --url "$url" -c 100 --inflight 8 --size 64 -d "$seconds" --pids "$pids" "${flag[@]}" 2> /dev/null | tail -1)"
        fi
        if [[ ",$only," == *",idle,"* ]]; then
            # On a cluster of its own: a gateway that held connections before keeps their pages.
            "$gatewayd" stop --run-dir "$work/run" > /dev/null
            start "$work/run"
            url="ws://127.0.0.1:$plain_port/"
            [ "$side" = on ] && [ "$compare" = tls ] && url="wss://127.0.0.1:$tls_port/"
            before=$(rss "$gateway_pid")
            ticks=$(cpu_ticks "$gateway_pid")
            rm -f "$work/ready"
            "$gwload" idle --url "$url" -c 10000 --hold 4 --ready-file "$work/ready" "${flag[@]}" > "$work/idle.out" 2>&1 &
            loader=$!
            for _ in $(seq 1200); do [ -f "$work/ready" ] && break; sleep 0.1; done
            sleep 1
            after=$(rss "$gateway_pid")
            setup_cpu=$(( $(cpu_ticks "$gateway_pid") - ticks ))
            wait "$loader" || true
            connect_s=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])["connect_s"])' "$work/idle.out")
            record idle-10k "{\"rss_bytes_per_conn\":$(( (after - before) / 10000 )),\"setup_cpu_us_per_conn\":$(python3 -c "print($setup_cpu / $ticks_per_second / 10000 * 1e6)"),\"connections_per_s\":$(python3 -c "print(10000 / $connect_s)")}"
            sleep 2  # the connections' ends
        fi
    done
    echo "run $run of $runs done"
done
cp "$results" "${RESULTS_COPY:-/dev/null}" 2> /dev/null || true
python3 - "$results" "$compare" << 'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
def median(workload, side, key):
    values = [r["r"][key] for r in rows if r["workload"] == workload and r["side"] == side and key in r["r"]]
    return statistics.median(values) if values else None
print(f"\nmedians of {max(r['run'] for r in rows)} runs ({'plain vs permessage-deflate' if sys.argv[2] == 'deflate' else 'ws:// vs wss://'})")
print(f"{'workload':<14}{'figure':<40}{'off':>12}{'on':>12}{'on/off':>8}")
for workload, key, name in [
    ("broadcast-1k", "server_cpu_us_per_unit", "server CPU µs per delivery"),
    ("broadcast-1k", "wire_bytes_per_delivery", "frame bytes per delivery"),
    ("broadcast-1k", "deliveries_per_s", "deliveries per second"),
    ("broadcast-1k", "p99_us", "p99 delivery latency µs"),
    ("echo-8", "server_cpu_us_per_unit", "server CPU µs per message"),
    ("echo-8", "msgs_per_s", "messages per second"),
    ("idle-10k", "rss_bytes_per_conn", "gateway RSS bytes per connection"),
    ("idle-10k", "setup_cpu_us_per_conn", "gateway CPU µs per connection set up"),
    ("idle-10k", "connections_per_s", "connections set up per second"),
]:
    off, on = median(workload, "off", key), median(workload, "on", key)
    if off is None or on is None:
        continue
    ratio = f"{on / off:>8.2f}" if off else f"{'—':>8}"
    print(f"{workload:<14}{name:<40}{off:>12.2f}{on:>12.2f}{ratio}")
PY
