#!/usr/bin/env bash
# Instructions per message in the gateway and the workers, counted by callgrind: unlike CPU time
# on this shared 2-core VM, the count does not move with a neighbour's load, so two builds can be
# compared while other work runs (issue 14; used for the message-path work of 2026-12-07).
#
#   bench/callgrind/run.sh [--gatewayd BIN] [--workload echo-8|echo-1|broadcast-2000] [--seconds S]
#
# Runs 1 gateway + 2 workers (C conformance plugin) under valgrind --tool=callgrind, counting
# only inside the event loop's run() (start-up and the forking master are left out), drives the
# workload with ../shared/tools/wsload, and prints the gateway's and the workers' instructions
# per message (echo: per client message; broadcast: per delivery). The profiles are kept in
# the printed directory for callgrind_annotate. Valgrind 3.19 cannot read the DWARF 5 of a
# Swift 6.3 build, so the binary is copied without its debug sections (symbols stay).
# Under valgrind every process runs ~50× slower, so loop iterations batch differently than at
# full speed: compare builds with the same workload, not these counts with CPU time.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
shared=${SHARED:-$root/../shared}
gatewayd=$root/.build-release/release/gatewayd
workload=echo-8
seconds=20
while [ $# -gt 0 ]; do
    case $1 in
        --gatewayd) gatewayd=$2; shift 2 ;;
        --workload) workload=$2; shift 2 ;;
        --seconds) seconds=$2; shift 2 ;;
        *) echo "callgrind/run.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
command -v valgrind > /dev/null || { echo "callgrind/run.sh: needs valgrind (apt-get install valgrind)" >&2; exit 1; }
[ -x "$gatewayd" ] || { echo "callgrind/run.sh: no gatewayd at $gatewayd (swift build -c release --scratch-path .build-release --product gatewayd)" >&2; exit 1; }
work=$(mktemp -d /tmp/gwd-callgrind-XXXXXX)
cleanup() {
    "$work/gatewayd" stop --run-dir "$work/run" > /dev/null 2>&1 || true
    [ -n "${valgrind_pid:-}" ] && kill "$valgrind_pid" 2> /dev/null || true
}
trap cleanup EXIT

cp "$gatewayd" "$work/gatewayd" && strip --strip-debug "$work/gatewayd"
"$shared/tools/wsload/build.sh" "$work/wsload" > /dev/null
"$work/gatewayd" plugin build "$root/plugins/conformance-c/conformance.c" -o "$work/conformance.so" > /dev/null
run_symbol=$(nm "$work/gatewayd" | awk '/ T .*16GatewayEventLoop0bC0C3runyyF$/ {print $3}')
port=$((20000 + RANDOM % 10000))
valgrind --tool=callgrind --collect-atstart=no --toggle-collect="$run_symbol" --callgrind-out-file="$work/callgrind.%p" -q \
    "$work/gatewayd" start --client-io engine --run-dir "$work/run" --plugin "$work/conformance.so" \
    --listen "websocket://127.0.0.1:$port" --register 127.0.0.1:0 --start-port 0 --gateway-count 1 --worker-count 2 \
    > "$work/gatewayd.log" 2>&1 &
valgrind_pid=$!

status() { "$work/gatewayd" status --json --run-dir "$work/run" 2> /dev/null; }
# field ROLE KEY: KEY of every process of ROLE, space-separated.
field() { status | python3 -c "import json,sys; print(' '.join(str(p['$2']) for p in json.load(sys.stdin)['processes'] if p['role'] == '$1'))"; }
for _ in $(seq 600); do
    [ "$(status | python3 -c "import json,sys; print(sum(p['state'] == 'running' for p in json.load(sys.stdin)['processes']))" 2> /dev/null || echo 0)" -ge 5 ] && break
    sleep 0.2
done
gateway=$(field gateway pid)
workers=$(field worker pid)
counter=messages_in
case $workload in
    echo-8) args=(echo -c 100 -inflight 8 -size 64 -prefix echo:) ;;
    echo-1) args=(echo -c 100 -inflight 1 -size 64 -prefix echo:) ;;
    broadcast-2000) args=(broadcast -c 2000 -senders 1 -rate 0 -prefix all:); counter=messages_out ;;
    *) echo "callgrind/run.sh: unknown workload $workload" >&2; exit 2 ;;
esac
"$work/wsload" "${args[@]}" -url "ws://127.0.0.1:$port/" -d "$seconds" > "$work/wsload.out" 2>&1
messages=$(field gateway "$counter")
"$work/gatewayd" stop --run-dir "$work/run" > /dev/null
wait "$valgrind_pid" 2> /dev/null || true
valgrind_pid=
total() { awk '/^totals:/ {print $2}' "$work/callgrind.$1"; }
python3 - "$workload" "$messages" "$(total "$gateway")" "$(for pid in $workers; do total "$pid"; done)" "$work" << 'PY'
import sys
workload, messages, gateway, workers, work = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4].split(), sys.argv[5]
unit, units = ("delivery", "deliveries") if workload.startswith("broadcast") else ("message", "messages")
print(f"{workload}: {messages} {units}; instructions per {unit}: gateway {gateway / messages:.0f}, workers {sum(map(int, workers)) / messages:.0f}")
print(f"profiles: {work}/callgrind.* (callgrind_annotate)")
PY
trap - EXIT
