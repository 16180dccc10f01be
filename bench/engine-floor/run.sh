#!/usr/bin/env bash
# Servers against ../shared/tools/floor, measured alternately (floor, server, floor, server, …)
# with the independent generator ../shared/tools/wsload: issue 14's figures
# (docs/design/io-engine.md). Every server speaks the floor's protocol (echo:, all:):
#   engine        the bare client engine, bench/Sources/EngineFloor (the go/no-go spike)
#   gatewayd      gatewayd itself, 1 gateway + 2 workers, client_io: engine, C conformance plugin
#   gatewayd-nio  the same with client_io: nio (the SwiftNIO way back)
#   gatewayd-base gatewayd built from another commit (GATEWAYD_BASE=path): an A/B of a change
#   gatewayd-metrics  gatewayd with --metrics, scraped once a second while measured (what
#                 /metrics costs: counting on the message path plus answering the scrapes)
# CPU and RSS are summed over every process of a server (gatewayd: master, register, gateway,
# workers). Prints one line per run and a table of medians, each server as a ratio to the floor.
#
#   bench/engine-floor/run.sh [--runs N] [--seconds S] [--only NAME,...] [--servers engine,gatewayd,...]
# Needs cc, Go with gorilla/websocket (golang-go, golang-github-gorilla-websocket-dev); gatewayd
# servers use the release build in .build-release (built when missing).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
shared=${SHARED:-$root/../shared}
runs=3
seconds=5
only=""
servers="engine"
while [ $# -gt 0 ]; do
    case $1 in
        --servers) servers=${2//,/ }; shift 2 ;;
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
if [[ " $servers " == *" engine "* ]]; then
    swift build -c release --package-path "$root/bench" --product EngineFloor > /dev/null
fi
engine_bin=$root/bench/.build/release/EngineFloor
gatewayd=${GATEWAYD:-$root/.build-release/release/gatewayd}
if [[ " $servers " == *" gatewayd"* ]]; then
    [ -x "$gatewayd" ] || swift build -c release --package-path "$root" --scratch-path "$root/.build-release" --product gatewayd > /dev/null
    "$gatewayd" plugin build "$root/plugins/conformance-c/conformance.c" -o "$work/conformance.so" > /dev/null
fi
# Idle connections need descriptors: 10 000 clients and the server's ends.
ulimit -n "$(ulimit -Hn)"

# start NAME PORT: starts that server, sets $pid (its processes, comma-separated) and $stop.
start() {
    case $1 in
        floor | engine)
            local bin=$work/floor
            [ "$1" = engine ] && bin=$engine_bin
            "$bin" "$2" 2> "$work/$1.log" &
            pid=$!
            pids+=("$pid")
            stop="kill $pid"
            for _ in $(seq 100); do grep -q listening "$work/$1.log" 2> /dev/null && return; sleep 0.05; done ;;
        gatewayd | gatewayd-nio | gatewayd-base | gatewayd-metrics)
            local io=engine run=$work/run-$2 extra=()
            [ "$1" = gatewayd-nio ] && io=nio
            [ "$1" = gatewayd-metrics ] && extra=(--metrics 127.0.0.1:0)
            local bin=$gatewayd
            [ "$1" = gatewayd-base ] && bin=${GATEWAYD_BASE:?GATEWAYD_BASE names the binary to compare with}
            "$bin" start -d --client-io "$io" --run-dir "$run" --plugin "$work/conformance.so" --listen "websocket://127.0.0.1:$2" \
                --register 127.0.0.1:0 --start-port 0 --gateway-count 1 --worker-count 2 "${extra[@]}" > "$work/$1.log" 2>&1 || true
            local master
            master=$(cat "$run/gatewayd.pid" 2> /dev/null || true)
            if [ -n "$master" ]; then
                pid=$(echo "$master" $(pgrep -P "$master") | tr ' ' ',')
                stop="$gatewayd stop --run-dir $run"
                pids+=("$master")
                if [ "$1" = gatewayd-metrics ]; then
                    # Scraped every second while measured (Prometheus' default is every 15 s).
                    local address
                    address=$(grep -o 'metrics=[0-9.:]*' "$work/$1.log" | head -1 | cut -d= -f2)
                    (while curl -sf -o /dev/null "http://$address/metrics"; do sleep 1; done) &
                    pids+=("$!")
                    stop="kill $! ; $stop"
                fi
                return
            fi ;;
    esac
    echo "engine-floor/run.sh: $1 did not start" >&2
    cat "$work/$1.log" >&2
    exit 1
}

# workload NAME: the wsload arguments and what is reported.
workloads="echo-8 echo-1 broadcast-2000 broadcast-10000 broadcast-2000-200 idle-10000 churn broadcast-2000-deep"
wanted() {  # every workload but the -deep analysis, or those --only names
    if [ -z "$only" ]; then [ "$1" != broadcast-2000-deep ]; else [[ ",$only," == *",$1,"* ]]; fi
}
measure() {  # measure WORKLOAD URL PID -> one JSON line on stdout
    local url=$2 pid=$3
    case $1 in
        echo-8) "$work/wsload" echo -url "$url" -c 100 -inflight 8 -d "$seconds" -size 64 -prefix echo: -pids "$pid" ;;
        echo-1) "$work/wsload" echo -url "$url" -c 100 -inflight 1 -d "$seconds" -size 64 -prefix echo: -pids "$pid" ;;
        broadcast-2000) "$work/wsload" broadcast -url "$url" -c 2000 -senders 1 -rate 0 -d "$seconds" -prefix all: -pids "$pid" ;;
        broadcast-10000) "$work/wsload" broadcast -url "$url" -c 10000 -senders 1 -rate 0 -d "$seconds" -drain 5 -prefix all: -pids "$pid" ;;
        # The sender keeps 16 broadcasts unacknowledged instead of wsload's 4: both servers get
        # as many per loop iteration, whatever the hops between the sender and the fan-out
        # (docs/design/io-engine.md, "Broadcast"). Not in the default set: an analysis, not a goal.
        broadcast-2000-deep) "$work/wsload" broadcast -url "$url" -c 2000 -senders 1 -rate 0 -outstanding 16 -d "$seconds" -prefix all: -pids "$pid" ;;
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

port=$((10000 + RANDOM % 20000))  # below the ephemeral range (32768-), where inner ports and clients land
for workload in $workloads; do
    wanted "$workload" || continue
    for run in $(seq "$runs"); do
        for server in floor $servers; do
            port=$((port + 1))
            start "$server" "$port"
            line=$(measure "$workload" "ws://127.0.0.1:$port/" "$pid")
            eval "$stop" > /dev/null 2>&1 || true
            wait 2> /dev/null || true
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
servers = [s for s in dict.fromkeys(k for r in rows.values() for k in r if k not in ("unit", "floor"))]
print(f"{'workload':<20} {'unit':<18} {'floor':>10} " + " ".join(f"{s:>14} {'ratio':>6}" for s in servers) + "   runs")
for workload, r in rows.items():
    f = statistics.median(r["floor"])
    cells, runs = [], ["floor " + ", ".join(f"{v:.3g}" for v in r["floor"])]
    for s in servers:
        if s not in r:
            cells.append(f"{'-':>14} {'-':>6}")
            continue
        m = statistics.median(r[s])
        cells.append(f"{m:>14.3f} {m / f if f else 0:>6.2f}")
        runs.append(s + " " + ", ".join(f"{v:.3g}" for v in r[s]))
    print(f"{workload:<20} {r['unit']:<18} {f:>10.3f} " + " ".join(cells) + "   " + " | ".join(runs))
PY
