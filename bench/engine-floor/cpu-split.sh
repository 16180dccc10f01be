#!/usr/bin/env bash
# User and system CPU per unit of work, per process, for the floor and gatewayd builds side by
# side under one wsload workload: where the difference to the floor is (user space or kernel,
# gateway or workers). Utime and stime come from /proc/PID/stat over the measured window.
#
#   bench/engine-floor/cpu-split.sh [--runs N] [--seconds S] GATEWAYD... -- WSLOAD-ARGS...
#   e.g. bench/engine-floor/cpu-split.sh .build-release/release/gatewayd -- echo -c 100 -inflight 8 -size 64 -prefix echo:
#
# Each run starts each server fresh (1 gateway + 2 workers, C conformance plugin), lets the load
# run 2 s, measures the next S seconds (default 3). Needs cc and Go (as run.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
shared=${SHARED:-$root/../shared}
runs=2
seconds=3
binaries=()
while [ $# -gt 0 ]; do
    case $1 in
        --runs) runs=$2; shift 2 ;;
        --seconds) seconds=$2; shift 2 ;;
        --) shift; break ;;
        *) binaries+=("$1"); shift ;;
    esac
done
[ ${#binaries[@]} -gt 0 ] && [ $# -gt 0 ] || { echo "usage: cpu-split.sh GATEWAYD... -- WSLOAD-ARGS..." >&2; exit 2; }
work=$(mktemp -d /tmp/gwd-cpu-split-XXXXXX)
stop=""
cleanup() { [ -n "$stop" ] && $stop > /dev/null 2>&1; rm -rf "$work"; }
trap cleanup EXIT
cc -O2 -o "$work/floor" "$shared/tools/floor/floor.c"
"$shared/tools/wsload/build.sh" "$work/wsload" > /dev/null
"${binaries[0]}" plugin build "$root/plugins/conformance-c/conformance.c" -o "$work/conformance.so" > /dev/null

snapshot() { for p in ${1//,/ }; do echo "$p $(cat /proc/$p/comm) $(awk '{print $14, $15}' /proc/$p/stat)"; done; }
port=$((10000 + RANDOM % 20000))
for run in $(seq "$runs"); do
    for server in floor "${binaries[@]}"; do
        port=$((port + 1))
        if [ "$server" = floor ]; then
            "$work/floor" "$port" 2> "$work/floor.log" &
            pids=$!
            stop="kill $pids"
            for _ in $(seq 100); do grep -q listening "$work/floor.log" 2> /dev/null && break; sleep 0.05; done
        else
            rm -rf "$work/run"
            "$server" start -d --run-dir "$work/run" --plugin "$work/conformance.so" --listen "websocket://127.0.0.1:$port" \
                --register 127.0.0.1:0 --start-port 0 --gateway-count 1 --worker-count 2 --log-level warning > /dev/null
            pids=$(pgrep -P "$(cat "$work/run/gatewayd.pid")" | paste -sd,)
            stop="$server stop --run-dir $work/run"
        fi
        "$work/wsload" "$@" -d $((seconds + 3)) -url "ws://127.0.0.1:$port/" > "$work/load.json" 2>&1 &
        load=$!
        sleep 2
        snapshot "$pids" > "$work/a"
        sleep "$seconds"
        snapshot "$pids" > "$work/b"
        wait "$load"
        $stop > /dev/null 2>&1 || true
        wait 2> /dev/null || true
        stop=""
        rate=$(tail -1 "$work/load.json" | python3 -c "import json,sys; d=json.load(sys.stdin); print(d.get('msgs_per_s') or d.get('deliveries_per_s'))")
        hz=$(getconf CLK_TCK)
        echo "== run $run: $server ($rate per s)"
        paste "$work/a" "$work/b" | awk -v r="$rate" -v s="$seconds" -v hz="$hz" '{
            u = ($7 - $3) / hz; k = ($8 - $4) / hz
            if (u + k > 0.02) printf "  %-16s user %.3f us  sys %.3f us  per unit\n", $2, u / s / r * 1e6, k / s / r * 1e6 }'
    done
done
