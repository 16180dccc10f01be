#!/usr/bin/env bash
# permessage-deflate's price and saving (issue 18), on one gatewayd (1 gateway + 2 workers,
# C conformance plugin, compression: true) driven by gwload with and without --deflate,
# alternately, so both sides of each ratio are measured in the same conditions:
#   broadcast  2000 receivers, 1 KiB chat-like JSON per broadcast, as fast as a window of 4
#              allows: server CPU per delivery, bytes on the wire per delivery
#   echo       100 connections × 8 in flight, 64 B (`echo:` + filler): server CPU per message
#   idle       10 000 connections held: gateway RSS per connection
# A client without --deflate does not offer the extension, so it gets plain frames from the
# same server: "off" below is compression not negotiated, which costs what compression: false
# costs (nothing is compressed or inflated; the offer is not even parsed without it).
#
#   bench/compression/run.sh [--runs N] [--seconds S] [--only broadcast,echo,idle]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
runs=3
seconds=5
only="broadcast,echo,idle"
while [ $# -gt 0 ]; do
    case $1 in
        --runs) runs=$2; shift 2 ;;
        --seconds) seconds=$2; shift 2 ;;
        --only) only=$2; shift 2 ;;
        *) echo "compression/run.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
work=$(mktemp -d /tmp/gwd-compression-XXXXXX)
gatewayd=${GATEWAYD:-$root/.build-release/release/gatewayd}
cleanup() { "$gatewayd" stop --run-dir "$work/run" > /dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)"

swift build -c release --package-path "$root" --scratch-path "$root/.build-release" --product gatewayd > /dev/null
swift build -c release --package-path "$root/bench" --product gwload > /dev/null
gwload=$root/bench/.build/release/gwload
"$gatewayd" plugin build "$root/plugins/conformance-c/conformance.c" -o "$work/conformance.so" > /dev/null
cat > "$work/gatewayd.yaml" << YAML
compression: true
ping_interval: 0
max_connections: 20000
YAML
"$gatewayd" start -d --config "$work/gatewayd.yaml" --run-dir "$work/run" --plugin "$work/conformance.so" \
    --listen websocket://127.0.0.1:0 --register 127.0.0.1:0 --start-port 0 --gateway-count 1 --worker-count 2 > "$work/start.out"
url="ws://127.0.0.1:$(sed -n 's/.*listen=websocket:\/\/[^ ,]*:\([0-9]*\).*/\1/p' "$work/start.out" | head -1)/"
status=$("$gatewayd" status --json --run-dir "$work/run")
pids=$(python3 -c 'import json,sys; print(",".join("%s:%d" % (p["role"], p["pid"]) for p in json.load(sys.stdin)["processes"] if p["role"] in ("gateway","worker")))' <<< "$status")
gateway_pid=$(python3 -c 'import json,sys; print([p["pid"] for p in json.load(sys.stdin)["processes"] if p["role"]=="gateway"][0])' <<< "$status")
echo "machine: $(nproc) cores, $(uname -r); gatewayd $($gatewayd --version | head -1); serving $url"

rss() { awk '/VmRSS/ {print $2 * 1024}' "/proc/$1/status"; }
results=$work/results.jsonl
for run in $(seq "$runs"); do
    for deflate in off on; do
        flag=()
        [ "$deflate" = on ] && flag=(--deflate)
        if [[ ",$only," == *",broadcast,"* ]]; then
            line=$("$gwload" broadcast --url "$url" --receivers 2000 --size 1024 --window 4 -d "$seconds" --pids "$pids" "${flag[@]}" 2> /dev/null | tail -1)
            echo "{\"workload\":\"broadcast-1k\",\"deflate\":\"$deflate\",\"run\":$run,\"r\":$line}" >> "$results"
        fi
        if [[ ",$only," == *",echo,"* ]]; then
            line=$("$gwload" echo --url "$url" -c 100 --inflight 8 --size 64 -d "$seconds" --pids "$pids" "${flag[@]}" 2> /dev/null | tail -1)
            echo "{\"workload\":\"echo-8\",\"deflate\":\"$deflate\",\"run\":$run,\"r\":$line}" >> "$results"
        fi
        if [[ ",$only," == *",idle,"* ]]; then
            before=$(rss "$gateway_pid")
            rm -f "$work/ready"
            "$gwload" idle --url "$url" -c 10000 --hold 4 --ready-file "$work/ready" "${flag[@]}" > /dev/null 2>&1 &
            loader=$!
            for _ in $(seq 600); do [ -f "$work/ready" ] && break; sleep 0.1; done
            sleep 1
            after=$(rss "$gateway_pid")
            wait "$loader" || true
            echo "{\"workload\":\"idle-10k\",\"deflate\":\"$deflate\",\"run\":$run,\"r\":{\"rss_bytes_per_conn\":$(( (after - before) / 10000 ))}}" >> "$results"
            sleep 2  # the connections' ends
        fi
    done
    echo "run $run of $runs done"
done
python3 - "$results" << 'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
def median(workload, deflate, key):
    values = [r["r"][key] for r in rows if r["workload"] == workload and r["deflate"] == deflate and key in r["r"]]
    return statistics.median(values) if values else None
print("\nmedians (compression negotiated: off = plain client, on = gwload --deflate)")
print(f"{'workload':<14}{'figure':<34}{'off':>12}{'on':>12}{'on/off':>8}")
for workload, key, name in [
    ("broadcast-1k", "server_cpu_us_per_unit", "server CPU µs per delivery"),
    ("broadcast-1k", "wire_bytes_per_delivery", "bytes on the wire per delivery"),
    ("broadcast-1k", "deliveries_per_s", "deliveries per second"),
    ("echo-8", "server_cpu_us_per_unit", "server CPU µs per message"),
    ("echo-8", "msgs_per_s", "messages per second"),
    ("idle-10k", "rss_bytes_per_conn", "gateway RSS bytes per connection"),
]:
    off, on = median(workload, "off", key), median(workload, "on", key)
    if off is None or on is None:
        continue
    print(f"{workload:<14}{name:<34}{off:>12.2f}{on:>12.2f}{on / off if off else float('nan'):>8.2f}")
PY
