#!/usr/bin/env bash
# Profiles gatewayd's echo or broadcast path with perf (cpu-clock: this machine has no HW
# counters), 1 gateway + 2 workers, conformance-c, and prints where the CPU goes per role.
#
#   bench/perf/profile.sh echo|broadcast [SECONDS] [OUT_DIR]
#
# echo: 100 connections × 8 in flight of 64 B `echo:`; broadcast: `all:` to 2000 receivers as
# fast as a window of 4 allows. Needs the release builds bench/run.sh makes, and linux-perf.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
workload=${1:?echo or broadcast}
seconds=${2:-8}
out=${3:-$root/bench/results/perf-$workload}
gatewayd=$root/.build-release/release/gatewayd
gwload=$root/bench/.build/release/gwload
work=$(mktemp -d /tmp/gwd-perf-XXXXXX)
mkdir -p "$out"
load_pid=""
cleanup() {
    set +e
    [ -n "$load_pid" ] && kill "$load_pid" 2>/dev/null && wait "$load_pid" 2>/dev/null
    "$gatewayd" stop --run-dir "$work/run" >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT

"$gatewayd" plugin build "$root/plugins/conformance-c/conformance.c" -o "$work/conformance.so" >/dev/null
"$gatewayd" start -d --run-dir "$work/run" --plugin "$work/conformance.so" --listen websocket://127.0.0.1:0 \
    --register 127.0.0.1:0 --start-port 0 --gateway-count 1 --worker-count 2 --log-level warning > "$work/ready"
port=$(grep -o 'listen=websocket://127.0.0.1:[0-9]*' "$work/ready" | cut -d: -f3)
roles=$("$gatewayd" status --json --run-dir "$work/run" | python3 -c "
import json, sys
by_role = {}
for p in json.load(sys.stdin)['processes']:
    if p['role'] in ('gateway', 'worker'): by_role.setdefault(p['role'], []).append(str(p['pid']))
print(' '.join('%s=%s' % (role, ','.join(pids)) for role, pids in sorted(by_role.items())))")
pids=$(echo "$roles" | tr ' ' '\n' | cut -d= -f2 | paste -sd,)
role_pids=$(echo "$roles" | tr ' ' '\n' | awk -F= '{n=split($2,p,","); for(i=1;i<=n;i++) printf "%s%s:%s", (o++?",":""), $1, p[i]}')

case "$workload" in
    echo) "$gwload" echo --url "ws://127.0.0.1:$port/" -c 100 --inflight 8 --size 64 --warmup 1 -d $((seconds + 3)) \
              --pids "$role_pids" > "$out/load.txt" 2>&1 & ;;
    broadcast) "$gwload" broadcast --url "ws://127.0.0.1:$port/" --receivers 2000 --window 4 -d $((seconds + 6)) \
              --pids "$role_pids" > "$out/load.txt" 2>&1 & ;;
    *) echo "echo or broadcast" >&2; exit 2 ;;
esac
load_pid=$!
# Start recording once the load runs (broadcast needs its 2000 connections first).
sleep $([ "$workload" = broadcast ] && echo 5 || echo 2)
perf record -q -e cpu-clock -F 2000 -g -o "$out/perf.data" -p "$pids" -- sleep "$seconds" 2>/dev/null
wait "$load_pid"; load_pid=""
perf script -i "$out/perf.data" -F comm,pid,tid,ip,sym,dso 2>/dev/null | swift demangle --simplified |
    python3 "$root/bench/perf/summarize-perf.py" $roles > "$out/summary.md"
grep -v '^{' "$out/load.txt"
cat "$out/summary.md"
