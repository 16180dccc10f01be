#!/usr/bin/env bash
# The client engine (GatewayIOEngine) against ../shared/tools/floor, measured alternately with
# the independent generator ../shared/tools/wsload: issue 14's go/no-go figures
# (docs/design/io-engine.md). Both servers speak the floor's protocol (echo:, all:); the
# engine's is bench/Sources/EngineFloor. Prints one line per run and a table of medians.
#
#   bench/engine-floor/run.sh [--runs N] [--seconds S] [--only NAME,...]
# Needs cc, Go with gorilla/websocket (golang-go, golang-github-gorilla-websocket-dev).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
shared=${SHARED:-$root/../shared}
runs=3
seconds=5
only=""
while [ $# -gt 0 ]; do
    case $1 in
        --runs) runs=$2; shift 2 ;;
        --seconds) seconds=$2; shift 2 ;;
        --only) only=$2; shift 2 ;;
        *) echo "engine-floor/run.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
work=$(mktemp -d /tmp/gwd-engine-floor-XXXXXX)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

cc -O2 -o "$work/floor" "$shared/tools/floor/floor.c"
"$shared/tools/wsload/build.sh" "$work/wsload" > /dev/null
swift build -c release --package-path "$root/bench" --product EngineFloor > /dev/null
engine_bin=$root/bench/.build/release/EngineFloor

# start NAME PORT: starts that server, sets $pid.
start() {
    if [ "$1" = floor ]; then "$work/floor" "$2" 2> "$work/$1.log" & else "$engine_bin" "$2" 2> "$work/$1.log" & fi
    pid=$!
    pids+=("$pid")
    for _ in $(seq 100); do grep -q listening "$work/$1.log" 2> /dev/null && return; sleep 0.05; done
    echo "engine-floor/run.sh: $1 did not start" >&2
    exit 1
}

# workload NAME: the wsload arguments and what is reported.
workloads="echo-8 echo-1 broadcast-2000 broadcast-10000 broadcast-2000-200 idle-10000 churn"
wanted() { [ -z "$only" ] || [[ ",$only," == *",$1,"* ]]; }
measure() {  # measure WORKLOAD URL PID -> one JSON line on stdout
    local url=$2 pid=$3
    case $1 in
        echo-8) "$work/wsload" echo -url "$url" -c 100 -inflight 8 -d "$seconds" -size 64 -prefix echo: -pids "$pid" ;;
        echo-1) "$work/wsload" echo -url "$url" -c 100 -inflight 1 -d "$seconds" -size 64 -prefix echo: -pids "$pid" ;;
        broadcast-2000) "$work/wsload" broadcast -url "$url" -c 2000 -senders 1 -rate 0 -d "$seconds" -prefix all: -pids "$pid" ;;
        broadcast-10000) "$work/wsload" broadcast -url "$url" -c 10000 -senders 1 -rate 0 -d "$seconds" -drain 5 -prefix all: -pids "$pid" ;;
        broadcast-2000-200) "$work/wsload" broadcast -url "$url" -c 2000 -senders 1 -rate 200 -d "$seconds" -prefix all: -pids "$pid" ;;
        idle-10000)
            # Warm up first: code paths run for the first time fault in pages of the binary and
            # its libraries, which VmRSS counts; a server in service has them already.
            "$work/wsload" idle -url "$url" -c 200 -ramprate 1000 -hold 0 > /dev/null 2>&1
            "$work/wsload" echo -url "$url" -c 10 -inflight 1 -d 1 -warm 0 -size 64 -prefix echo: > /dev/null 2>&1
            "$work/wsload" idle -url "$url" -c 10000 -ramprate 5000 -hold 2 -pids "$pid" ;;
        churn) "$work/wsload" churn -url "$url" -c 50 -d "$seconds" ;;
    esac 2>&1 | tail -1
}

port=$((20000 + RANDOM % 20000))
for workload in $workloads; do
    wanted "$workload" || continue
    for run in $(seq "$runs"); do
        for server in floor engine; do
            port=$((port + 1))
            start "$server" "$port"
            line=$(measure "$workload" "ws://127.0.0.1:$port/" "$pid")
            kill "$pid"; wait "$pid" 2> /dev/null || true
            echo "$workload $server $run $line" | tee -a "$work/results"
        done
    done
done

python3 - "$work/results" <<'PY'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    workload, server, run, text = line.split(" ", 3)
    d = json.loads(text)
    if workload.startswith("echo"):
        value, unit = d["server_cpu_pct"] / 100 / d["msgs_per_s"] * 1e6, "µs CPU/msg"
    elif workload == "broadcast-2000-200":
        value, unit = d["p99_us"] / 1e3, "ms p99 delivery"
    elif workload.startswith("broadcast"):
        value, unit = d["server_cpu_pct"] / 100 / d["deliveries_per_s"] * 1e6, "µs CPU/delivery"
        if d["missing"] or d["errors"]: print(f"note: {workload} {server} run {run}: missing {d['missing']} errors {d['errors']}")
    elif workload.startswith("idle"):
        value, unit = d["bytes_per_conn"], "B RSS/conn"
    else:
        value, unit = d.get("cycles_per_s", 0), "cycles/s"
    rows.setdefault(workload, {"unit": unit}).setdefault(server, []).append(value)
print(f"{'workload':<20} {'unit':<18} {'floor (median)':>15} {'engine (median)':>16} {'ratio':>7}   runs")
for workload, r in rows.items():
    f, e = statistics.median(r["floor"]), statistics.median(r["engine"])
    runs = "floor " + ", ".join(f"{v:.3g}" for v in r["floor"]) + " | engine " + ", ".join(f"{v:.3g}" for v in r["engine"])
    print(f"{workload:<20} {r['unit']:<18} {f:>15.3f} {e:>16.3f} {e / f if f else 0:>7.2f}   {runs}")
PY
