#!/usr/bin/env bash
# gatewayd's benchmark campaign (issue 6), in one command:
#
#   bench/run.sh [--runs N] [--duration S] [--quick] [--only REGEX] [--shapes "echoserver 1x2 2x2 alloc"]
#                [--out DIR] [--no-build] [--gatewayd PATH]
#
# Builds gatewayd, the C conformance plugin, gwload and echoserver in release; measures gwload's
# ceiling against echoserver; starts gatewayd with 1 gateway + 2 workers and with 2 gateways +
# 2 workers and runs every workload of issue 6 on each, N times; then, with bench/malloc-counter
# preloaded, counts heap calls per message and the live heap per idle connection. Prints one human block and one JSON line per run
# as it goes, then a table of medians and one JSON line per workload (also in $out/summary.jsonl).
#
# The primary figure is server CPU per unit of work (utime+stime of every gatewayd process,
# from /proc, over the measured window): on a shared, noisy machine it moves far less than
# throughput or latency do. Every process this script starts is stopped on exit, even on failure.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
runs=3
duration=10
warmup=1
quick=0
only=""
shapes="echoserver 1x2 2x2 alloc"
build=1
out=""
gatewayd_override=""

usage() { sed -n '2,/^set -euo pipefail/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs=$2; shift 2 ;;
        --duration) duration=$2; shift 2 ;;
        --quick) quick=1; shift ;;
        --only) only=$2; shift 2 ;;
        --shapes) shapes=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --no-build) build=0; shift ;;
        --gatewayd) gatewayd_override=$2; shift 2 ;;  # measure another build (A/B comparisons)
        -h|--help) usage; exit 0 ;;
        *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
    esac
done
if [ "$quick" = 1 ]; then runs=1; duration=2; warmup=0.5; fi

gatewayd=${gatewayd_override:-$root/.build-release/release/gatewayd}
bench_bin=$root/bench/.build/release
gwload=$bench_bin/gwload
echoserver=$bench_bin/echoserver
work=$(mktemp -d /tmp/gwd-bench-XXXXXX)
out=${out:-$root/bench/results/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
results=$out/runs.jsonl
: > "$results"

# --- cleanup: every cluster, server and generator this script started ------------------------
run_dirs=()
pids=()
cleanup() {
    local status=$?
    set +e
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
    for dir in "${run_dirs[@]}"; do
        if [ -f "$dir/started" ]; then
            "$gatewayd" stop --run-dir "$dir" >/dev/null 2>&1 || kill "$(cat "$dir/started")" 2>/dev/null
        fi
    done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
    rm -rf "$work"
    exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '\n== %s\n' "$*"; }

# --- build ---------------------------------------------------------------------------------
if [ "$build" = 1 ]; then
    say "building (release, nice 10)"
    if [ -z "$gatewayd_override" ]; then
        nice -n 10 swift build -c release --package-path "$root" --scratch-path "$root/.build-release" --product gatewayd 2>&1 | tail -1
    fi
    nice -n 10 swift build -c release --package-path "$root/bench" --product gwload 2>&1 | tail -1
    nice -n 10 swift build -c release --package-path "$root/bench" --product echoserver 2>&1 | tail -1
fi
for binary in "$gatewayd" "$gwload" "$echoserver"; do
    [ -x "$binary" ] || { echo "missing $binary (run without --no-build)" >&2; exit 1; }
done
# Two versions of the conformance plugin, so a reload really swaps the code. Built with this
# checkout's gatewayd (its header) when there is one: an older gatewayd under test (--gatewayd)
# embeds an older header, which the plugin's newer entries do not compile against; the plugin
# checks the host's version and loads on either.
plugin_builder=$gatewayd
[ -x "$root/.build-release/release/gatewayd" ] && plugin_builder=$root/.build-release/release/gatewayd
for version in 1 2; do
    sed "s/#define CONFORMANCE_VERSION \"1\"/#define CONFORMANCE_VERSION \"$version\"/" \
        "$root/plugins/conformance-c/conformance.c" > "$work/conformance-v$version.c"
    "$plugin_builder" plugin build "$work/conformance-v$version.c" -o "$work/conformance-v$version.so" >/dev/null
done
cc -O2 -Wall -Wextra -shared -fPIC -o "$work/malloc-counter.so" "$root/bench/malloc-counter/malloc-counter.c"

# 10 000 connections need more descriptors than the usual soft limit, in gwload and the gateway.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
fd_limit=$(ulimit -n)
big=10000
if [ "$fd_limit" != unlimited ] && [ "$fd_limit" -lt $((big + 200)) ]; then
    big=$((fd_limit - 200))
    echo "warning: open-file limit $fd_limit; the 10 000-connection workloads use $big" >&2
fi

{
    echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(. /etc/os-release; echo "$PRETTY_NAME"), kernel $(uname -r)"
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)  commit: $(git -C "$root" rev-parse --short HEAD)  load: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "runs: $runs  duration: ${duration}s  warmup: ${warmup}s  open files: $fd_limit"
} | tee "$out/machine.txt"

# --- clusters ------------------------------------------------------------------------------
cluster_dir=""
port=""
# start_cluster GATEWAYS WORKERS [PRELOAD]: a fresh cluster on free ports; sets cluster_dir, port.
start_cluster() {
    local gateways=$1 workers=$2 preload=${3:-}
    cluster_dir=$(mktemp -d "$work/cluster-XXXXXX")
    run_dirs+=("$cluster_dir")
    cp "$work/conformance-v1.so" "$cluster_dir/live.so"
    local env_args=()
    if [ -n "$preload" ]; then env_args=(env "MALLOC_COUNTER_DIR=$cluster_dir/malloc" "LD_PRELOAD=$preload"); fi
    "${env_args[@]}" "$gatewayd" start -d --run-dir "$cluster_dir" --plugin "$cluster_dir/live.so" \
        --listen websocket://127.0.0.1:0 --register 127.0.0.1:0 --start-port 0 \
        --gateway-count "$gateways" --worker-count "$workers" --log-level warning > "$cluster_dir/ready"
    grep -o 'pid=[0-9]*' "$cluster_dir/ready" | head -1 | cut -d= -f2 > "$cluster_dir/started"
    port=$(grep -o 'listen=websocket://127.0.0.1:[0-9]*' "$cluster_dir/ready" | cut -d: -f3)
}
stop_cluster() {
    "$gatewayd" stop --run-dir "$cluster_dir" >/dev/null
    rm -f "$cluster_dir/started"
}
# role:pid of every gatewayd process of the cluster (the CPU of all of them is charged).
cluster_pids() {
    "$gatewayd" status --json --run-dir "$cluster_dir" |
        python3 -c "import json,sys; print(','.join('%s:%d' % (p['role'], p['pid']) for p in json.load(sys.stdin)['processes']))"
}
# {"rss": {role: VmRSS KiB summed over the role's processes, ..., "total": ...},
#  "heap": {role: {"live": bytes, "blocks": [live blocks by size bucket]}}} of the whole
# cluster; "heap" only when it runs with bench/malloc-counter preloaded.
cluster_memory() {
    "$gatewayd" status --json --run-dir "$cluster_dir" | python3 -c "
import json, os, struct, sys
rss, heap = {}, {}
for p in json.load(sys.stdin)['processes']:
    role, pid = p['role'], p['pid']
    with open('/proc/%d/status' % pid) as f:
        rss[role] = rss.get(role, 0) + next(int(line.split()[1]) for line in f if line.startswith('VmRSS:'))
    path = os.path.join(sys.argv[1], 'malloc', str(pid))
    if os.path.exists(path):
        words = struct.unpack('<9q24q', open(path, 'rb').read()[:264])
        mine = heap.setdefault(role, {'live': 0, 'blocks': [0] * 24})
        mine['live'] += words[8]
        mine['blocks'] = [a + b for a, b in zip(mine['blocks'], words[9:])]
rss['total'] = sum(rss.values())
print(json.dumps({'rss': rss, 'heap': heap}))" "$cluster_dir"
}

# record SHAPE WORKLOAD RUN: reads gwload's output on stdin; prints it; files its JSON line.
record() {
    local shape=$1 workload=$2 run=$3 line="" text
    while IFS= read -r text; do
        printf '%s\n' "$text"
        line=$text
    done
    case "$line" in
        "{"*) python3 -c "
import json,sys; d=json.loads(sys.argv[1]); d.update(shape=sys.argv[2], workload=sys.argv[3], run=int(sys.argv[4])); print(json.dumps(d))
" "$line" "$shape" "$workload" "$run" >> "$results" ;;
        *) echo "warning: $shape $workload run $run gave no JSON line" >&2 ;;
    esac
}
wanted() { [ -z "$only" ] || [[ "$1" =~ $only ]]; }
# One gwload run, bounded in time; a failed run is reported and the campaign goes on.
load() {
    timeout --signal=TERM "$(awk "BEGIN {print int($duration * 3 + 180)}")" "$gwload" "$@" 2>&1 ||
        echo "gwload $1 failed with status $?"
}

# --- workloads -----------------------------------------------------------------------------
echo_workloads() {  # SHAPE PIDS [extra gwload options...]
    local shape=$1 server_pids=$2 run; shift 2
    for run in $(seq "$runs"); do
        wanted echo-64-x1 && load echo --url "ws://127.0.0.1:$port/" -c 100 --inflight 1 --size 64 -d "$duration" --warmup "$warmup" \
            --pids "$server_pids" --label "$shape echo-64-x1" "$@" | record "$shape" echo-64-x1 "$run"
        wanted echo-64-x8 && load echo --url "ws://127.0.0.1:$port/" -c 100 --inflight 8 --size 64 -d "$duration" --warmup "$warmup" \
            --pids "$server_pids" --label "$shape echo-64-x8" "$@" | record "$shape" echo-64-x8 "$run"
        wanted echo-4k-x4 && load echo --url "ws://127.0.0.1:$port/" -c 100 --inflight 4 --size 4096 -d "$duration" --warmup "$warmup" \
            --pids "$server_pids" --label "$shape echo-4k-x4" "$@" | record "$shape" echo-4k-x4 "$run"
    done
    return 0
}

broadcast_workloads() {  # SHAPE PIDS [extra gwload options...]
    local shape=$1 server_pids=$2 run receivers; shift 2
    for run in $(seq "$runs"); do
        for receivers in 2000 "$big"; do
            wanted "bcast-$receivers-max" && load broadcast --url "ws://127.0.0.1:$port/" --receivers "$receivers" --rate 0 --window 4 \
                -d "$duration" --pids "$server_pids" --label "$shape bcast-$receivers-max" "$@" | record "$shape" "bcast-$receivers-max" "$run"
            # A window of one second's worth: the sender keeps the rate unless deliveries fall behind.
            wanted "bcast-$receivers-200" && load broadcast --url "ws://127.0.0.1:$port/" --receivers "$receivers" --rate 200 --window 200 \
                -d "$duration" --pids "$server_pids" --label "$shape bcast-$receivers-200" "$@" | record "$shape" "bcast-$receivers-200" "$run"
        done
    done
    return 0
}

# Idle RSS: a fresh cluster per run (a heap that served load before would hide growth), the
# RSS of every process summed, before and with the connections open.
idle_workload() {  # SHAPE GATEWAYS WORKERS [PRELOAD]
    local shape=$1 gateways=$2 workers=$3 preload=${4:-} run before after ready
    wanted "idle-$big" || return 0
    for run in $(seq "$runs"); do
        start_cluster "$gateways" "$workers" "$preload"
        sleep 1
        before=$(cluster_memory)
        ready=$work/idle-ready
        rm -f "$ready"
        "$gwload" idle --url "ws://127.0.0.1:$port/" -c "$big" --hold 600 --ready-file "$ready" --label "$shape idle" > "$work/idle.out" 2>&1 &
        local idle_pid=$!
        pids+=("$idle_pid")
        for _ in $(seq 1200); do [ -f "$ready" ] || ! kill -0 "$idle_pid" 2>/dev/null && break; sleep 0.1; done
        sleep 2  # let the handshakes' after-effects (worker verdicts, buffers) settle
        after=$(cluster_memory)
        kill "$idle_pid" 2>/dev/null; wait "$idle_pid" 2>/dev/null || true
        cat "$work/idle.out"
        python3 -c "
import json, sys
b, a, n = json.loads(sys.argv[1]), json.loads(sys.argv[2]), max(1, int(sys.argv[3]))
before, after = b['rss'], a['rss']
per_role = {role: (after[role] - before.get(role, 0)) * 1024 / n for role in after if role != 'total'}
print('idle %s: %d connections, RSS of all processes %d KiB -> %d KiB; bytes per connection by role: %s' % (
    sys.argv[4], n, before['total'], after['total'], ', '.join('%s %.0f' % kv for kv in sorted(per_role.items()))))
result = dict(label=sys.argv[4] + ' idle', mode='idle', connections=n, rss_before_kib=before, rss_after_kib=after,
              rss_per_conn_bytes=(after['total'] - before['total']) * 1024 / n, rss_per_conn_bytes_by_role=per_role)
if a['heap']:
    # Live heap per connection, and live blocks per connection by size (bucket i: below 2^(i+4) bytes).
    result['heap_per_conn_bytes_by_role'] = {r: (h['live'] - b['heap'].get(r, {}).get('live', 0)) / n for r, h in a['heap'].items()}
    result['live_blocks_per_conn_by_size'] = {r: {'<%d' % (16 << i) if i < 23 else 'larger': round((c - b['heap'][r]['blocks'][i]) / n, 2)
                                                  for i, c in enumerate(h['blocks']) if c != b['heap'][r]['blocks'][i]}
                                              for r, h in a['heap'].items() if r in b['heap']}
    print('  live heap per connection by role: ' + ', '.join('%s %.0f B' % kv for kv in sorted(result['heap_per_conn_bytes_by_role'].items())))
    print('  gateway live blocks per connection by size: %s' % result['live_blocks_per_conn_by_size'].get('gateway'))
print(json.dumps(result))
" "$before" "$after" "$(cat "$ready" 2>/dev/null || echo 0)" "$shape" | record "$shape" "idle-$big" "$run"
        stop_cluster
    done
}

# Reload under load: a steady window, then a window with 3 reloads (alternating plugin
# versions copied over the configured path, as a deploy does), both 100 × 4 in flight.
reload_workload() {  # SHAPE PIDS
    local shape=$1 server_pids=$2 run
    wanted reload || return 0
    for run in $(seq "$runs"); do
        load echo --url "ws://127.0.0.1:$port/" -c 100 --inflight 4 --size 64 -d "$duration" --warmup "$warmup" \
            --pids "$server_pids" --label "$shape reload-steady" | record "$shape" reload-steady "$run"
        (
            sleep "$(awk "BEGIN {print $warmup + $duration / 8}")"
            for version in 2 1 2; do
                cp "$work/conformance-v$version.so" "$cluster_dir/live.so.new"
                mv "$cluster_dir/live.so.new" "$cluster_dir/live.so"
                "$gatewayd" reload --run-dir "$cluster_dir" 2>&1 | tail -1 | sed 's/^/  reload: /'
                sleep "$(awk "BEGIN {print $duration / 4}")"
            done
        ) > "$work/reloads.out" 2>&1 &
        local reloader=$!
        pids+=("$reloader")
        # Workers are replaced: their pids change, so charge CPU to the gateways' and the
        # master's pids only here, and read the reload window for lost messages and latency.
        load echo --url "ws://127.0.0.1:$port/" -c 100 --inflight 4 --size 64 -d "$duration" --warmup "$warmup" \
            --label "$shape reload-3x" | record "$shape" reload-3x "$run"
        wait "$reloader" || true
        cat "$work/reloads.out"
        cp "$work/conformance-v1.so" "$cluster_dir/live.so"
        # New workers, new pids.
        server_pids=$(cluster_pids)
    done
}

# --- the campaign --------------------------------------------------------------------------
for shape in $shapes; do
    case "$shape" in
        echoserver)
            say "generator ceiling: echoserver (one hop, 1 thread)"
            "$echoserver" --port-file "$work/echoserver.port" > "$work/echoserver.log" 2>&1 &
            echo_pid=$!
            pids+=("$echo_pid")
            for _ in $(seq 100); do [ -s "$work/echoserver.port" ] && break; sleep 0.1; done
            port=$(cat "$work/echoserver.port")
            echo_workloads echoserver "server:$echo_pid"
            kill "$echo_pid"; wait "$echo_pid" 2>/dev/null || true
            ;;
        1x2|2x2)
            gateways=${shape%x*}; workers=${shape#*x}
            say "gatewayd $gateways gateway(s) + $workers workers, conformance-c"
            start_cluster "$gateways" "$workers"
            server_pids=$(cluster_pids)
            echo "processes: $server_pids"
            echo_workloads "$shape" "$server_pids"
            broadcast_workloads "$shape" "$server_pids"
            reload_workload "$shape" "$server_pids"
            stop_cluster
            idle_workload "$shape" "$gateways" "$workers"
            ;;
        alloc)
            say "heap calls per message: gatewayd 1 gateway + 2 workers with bench/malloc-counter preloaded"
            start_cluster 1 2 "$work/malloc-counter.so"
            server_pids=$(cluster_pids)
            saved_runs=$runs; runs=1
            echo_workloads alloc "$server_pids" --malloc-counters "$cluster_dir/malloc"
            only_saved=$only; [ -z "$only" ] && only='bcast-2000-max'
            broadcast_workloads alloc "$server_pids" --malloc-counters "$cluster_dir/malloc"
            stop_cluster
            only=$only_saved
            idle_workload alloc 1 2 "$work/malloc-counter.so"
            runs=$saved_runs
            ;;
        *) echo "unknown shape: $shape" >&2; exit 2 ;;
    esac
done

say "summary (medians of $runs run(s); raw runs in $results)"
python3 "$root/bench/summarize.py" "$results" | tee "$out/summary.txt"
python3 "$root/bench/summarize.py" --json "$results" > "$out/summary.jsonl"
