#!/usr/bin/env bash
# What an idle WebSocket connection costs in plain SwiftNIO, for comparison with gatewayd's
# idle-10000 figure: bench/echoserver (NIO's own HTTP server upgrader + WebSocket handlers, the
# default 2 KiB receive buffer) with bench/malloc-counter preloaded, 10 000 idle connections
# from gwload, live heap and RSS per connection.
#
#   bench/idle-floor.sh [CONNECTIONS]      (needs the release builds bench/run.sh makes)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
connections=${1:-10000}
bin=$root/bench/.build/release
work=$(mktemp -d /tmp/gwd-idle-floor-XXXXXX)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
cc -O2 -Wall -shared -fPIC -o "$work/malloc-counter.so" "$root/bench/malloc-counter/malloc-counter.c"
mkdir -p "$work/malloc"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

MALLOC_COUNTER_DIR=$work/malloc LD_PRELOAD=$work/malloc-counter.so \
    "$bin/echoserver" --port 0 --port-file "$work/port" > /dev/null 2>&1 &
server=$!
pids+=("$server")
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || { echo "echoserver did not start" >&2; exit 1; }
sleep 1
# live heap bytes, VmRSS KiB, then live blocks by size bucket (see malloc-counter.c)
snapshot() {
    python3 - "$work/malloc/$server" "$server" <<'PY'
import struct, sys
words = struct.unpack('<9q24q', open(sys.argv[1], 'rb').read()[:264])
rss = next(int(l.split()[1]) for l in open('/proc/%s/status' % sys.argv[2]) if l.startswith('VmRSS:'))
print(words[8], rss, *words[9:])
PY
}
before=$(snapshot)
"$bin/gwload" idle --url "ws://127.0.0.1:$(cat "$work/port")/" -c "$connections" --hold 600 \
    --ready-file "$work/ready" --label idle-floor > "$work/idle.out" 2>&1 &
pids+=("$!")
for _ in $(seq 1200); do [ -f "$work/ready" ] && break; sleep 0.1; done
sleep 2
after=$(snapshot)
established=$(cat "$work/ready" 2>/dev/null || echo 0)
python3 - "$before" "$after" "$established" <<'PY'
import sys
b, a, n = [int(x) for x in sys.argv[1].split()], [int(x) for x in sys.argv[2].split()], max(1, int(sys.argv[3]))
blocks = {'<%d' % (16 << i): round((a[2 + i] - b[2 + i]) / n, 2) for i in range(24) if a[2 + i] != b[2 + i]}
print('echoserver, %d idle connections: live heap %.0f B/conn, RSS %.0f B/conn; live blocks per connection by size: %s'
      % (n, (a[0] - b[0]) / n, (a[1] - b[1]) * 1024 / n, blocks))
PY
