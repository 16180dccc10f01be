#!/usr/bin/env bash
# Echo round trips through the worker hop, with server CPU per message.
source "$(dirname "$0")/common.sh"
inflight=${1:-1}; size=${2:-64}; seconds=${3:-10}
start_cluster "$(conformance_plugin 1)"
pids=$("$bin" status --json --run-dir "$work/run" | python3 -c "import json,sys; print(' '.join(str(p['pid']) for p in json.load(sys.stdin)['processes'] if p['role'] in ('gateway','worker')))")
cpu() { for p in $pids; do awk '{print $14+$15}' "/proc/$p/stat"; done | paste -sd+ | bc; }
before=$(cpu)
"$wsload" echo -url "ws://127.0.0.1:$port/" -c 100 -inflight "$inflight" -d "$seconds" -warm 0 -size "$size" -prefix "echo:" > "$work/out" 2>&1
after=$(cpu)
tail -1 "$work/out" | python3 -c "
import json,sys; d=json.load(sys.stdin); ticks=$after-$before
print('echo %d B x %d in flight: %.0f msg/s p50 %.2f ms p99 %.2f ms lost %d | server cpu %.2f s = %.2f us/msg | wsload %.0f%% of a core' % (
    d['size'], d['inflight'], d['msgs_per_s'], d['p50_us']/1e3, d['p99_us']/1e3, d['lost'], ticks/100, ticks/100/d['msgs']*1e6, d['gen_cpu_pct']))"
