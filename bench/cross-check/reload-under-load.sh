#!/usr/bin/env bash
# Latency and loss in steady state and while 5 reloads replace every worker.
source "$(dirname "$0")/common.sh"
v1=$(conformance_plugin 1); v2=$(conformance_plugin 2)
cp "$v1" "$work/live.so"
start_cluster "$work/live.so"
load() {
    "$wsload" echo -url "ws://127.0.0.1:$port/" -c 100 -inflight 4 -d 10 -warm 1 -size 64 -prefix "echo:" 2>&1 | tail -1 |
        python3 -c "import json,sys; d=json.loads(sys.stdin.read()); print('$1: %.0f msg/s p50 %.2f ms p99 %.2f ms p99.9 %.2f ms lost %d out-of-order %d duplicates %d errors %d' % (d['msgs_per_s'], d['p50_us']/1e3, d['p99_us']/1e3, d['p999_us']/1e3, d['lost'], d['out_of_order'], d['duplicates'], d['errors']))"
}
load steady
(
    sleep 2.5
    for plugin in "$v2" "$v1" "$v2" "$v1" "$v2"; do
        cp "$plugin" "$work/live.so"   # overwritten in place, as a deploy would
        "$bin" reload --run-dir "$work/run" | tail -1 | sed 's/^/  reload: /'
        sleep 1.2
    done
) &
load "5 reloads"
wait
