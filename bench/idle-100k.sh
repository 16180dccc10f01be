#!/usr/bin/env bash
# 100 000 idle WebSocket connections to gatewayd (issue 14): RSS per connection over every
# gatewayd process, and the CPU the heartbeat costs while they idle.
#
#   bench/idle-100k.sh [--connections N] [--gateways G] [--client-io engine|nio]
#                      [--ping-interval S] [--idle S]
#
# One gateway process holds every connection it serves, so it needs a descriptor limit above its
# share. Where the hard limit is lower (this VM: 20 000, and raising it is refused), the
# connections are spread over G gateway processes sharing the port (SO_REUSEPORT, as
# `gateway_count` does in production); G defaults to the fewest whose shares fit the limit with a
# margin for the kernel's uneven hashing.
#
# One source address reaches at most ~64 000 ports of one destination, so the load comes from
# several wsload processes, each to its own loopback destination (127.0.0.1, .2, …; the gateway
# listens on 0.0.0.0). RSS is read from /proc before the first connection (after a warm-up) and
# once all are held; the heartbeat's CPU is the gatewayd processes' utime+stime over --idle
# seconds of holding them. Needs a descriptor hard limit above N (and root for the sysctls);
# Go with gorilla/websocket.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
shared=${SHARED:-$root/../shared}
connections=100000
gateways=
client_io=engine
ping_interval=25
idle=30
while [ $# -gt 0 ]; do
    case $1 in
        --connections) connections=$2; shift 2 ;;
        --gateways) gateways=$2; shift 2 ;;
        --client-io) client_io=$2; shift 2 ;;
        --ping-interval) ping_interval=$2; shift 2 ;;
        --idle) idle=$2; shift 2 ;;
        *) echo "idle-100k.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
work=$(mktemp -d /tmp/gwd-idle-100k-XXXXXX)
gatewayd=${GATEWAYD:-$root/.build-release/release/gatewayd}
original_ports=$(sysctl -n net.ipv4.ip_local_port_range | tr '\t' ' ')
cleanup() {
    sysctl -qw net.ipv4.ip_local_port_range="$original_ports" 2> /dev/null || true
    pkill -f "$work/wsload" 2> /dev/null || true
    "$gatewayd" stop --run-dir "$work/run" > /dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

ulimit -n "$(ulimit -Hn)"
limit=$(ulimit -n)
# A gateway's share may come out ~5 % above the mean (SO_REUSEPORT hashes the 4-tuple); keep 15 %
# and 1000 descriptors (links, the listener, the log) in hand.
usable=$(((limit - 1000) * 85 / 100))
if [ -z "$gateways" ]; then
    gateways=$(((connections + usable - 1) / usable))
fi
if [ $((connections / gateways)) -gt "$usable" ]; then
    echo "idle-100k.sh: $connections connections over $gateways gateway(s) is $((connections / gateways)) each, above what a process may open here ($limit descriptors, hard limit); pass --gateways $(((connections + usable - 1) / usable)) or raise the limit (ulimit -Hn, LimitNOFILE)" >&2
    exit 1
fi
sysctl -qw net.ipv4.ip_local_port_range="1024 65000"
sysctl -qw net.core.somaxconn=65535 2> /dev/null || true
[ -x "$gatewayd" ] || swift build -c release --package-path "$root" --scratch-path "$root/.build-release" --product gatewayd > /dev/null
"$shared/tools/wsload/build.sh" "$work/wsload" > /dev/null
"$gatewayd" plugin build "$root/plugins/conformance-c/conformance.c" -o "$work/conformance.so" > /dev/null
port=$((10000 + RANDOM % 20000))  # below the ephemeral range (32768-), where inner ports and clients land
cat > "$work/gatewayd.yaml" << YAML
max_connections: $((connections / gateways * 2 + 1000))
ping_interval: $ping_interval
ping_not_response_limit: 0
client_io: $client_io
YAML
"$gatewayd" start -d --config "$work/gatewayd.yaml" --run-dir "$work/run" --plugin "$work/conformance.so" \
    --listen "websocket://0.0.0.0:$port" --register 127.0.0.1:0 --start-port 0 --gateway-count "$gateways" --worker-count 2 > /dev/null
master=$(cat "$work/run/gatewayd.pid")
pids="$master $(pgrep -P "$master" | tr '\n' ' ')"

rss() { local total=0; for pid in $pids; do total=$((total + $(awk '/^VmRSS/ {print $2}' "/proc/$pid/status"))); done; echo $((total * 1024)); }
# name=KiB per process, from /proc like the totals (names from the status of every process).
rss_by_role() {
    local names
    names=$("$gatewayd" status --json --run-dir "$work/run" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(" ".join("%d=%s%d" % (p["pid"], p["role"], p["index"]) for p in d["processes"]))')
    for pid in $pids; do
        local name=pid$pid
        for entry in $names; do [ "${entry%%=*}" = "$pid" ] && name=${entry#*=}; done
        echo -n "$name=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status") "
    done
    echo
}
cpu_ticks() { local total=0; for pid in $pids; do total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat"))); done; echo "$total"; }

# Warm-up: the first connections and messages fault in code pages, which a server in service has.
"$work/wsload" idle -url "ws://127.0.0.1:$port/" -c 200 -ramprate 1000 -hold 0 > /dev/null 2>&1
"$work/wsload" echo -url "ws://127.0.0.1:$port/" -c 10 -inflight 1 -d 1 -warm 0 -size 64 -prefix echo: > /dev/null 2>&1
rss_by_role > /dev/null  # the first status request faults in code of its own: part of the warm-up
sleep 1
before=$(rss)
roles_before=$(rss_by_role)

# wsload is one process per group; its descriptors count against the same limit.
per=$((usable < 25000 ? usable : 25000))
groups=$(((connections + per - 1) / per))
hold=$((idle + 60 + connections / 2000))
for group in $(seq "$groups"); do
    count=$per
    [ "$group" -eq "$groups" ] && count=$((connections - per * (groups - 1)))
    "$work/wsload" idle -url "ws://127.0.0.$group:$port/" -c "$count" -ramprate 5000 -hold "$hold" > "$work/idle-$group.out" 2>&1 &
done
# Wait until the gateway holds them all.
deadline=$((SECONDS + 120 + connections / 1000))
while :; do
    # Counted by the kernel, not asked of gatewayd: status requests would grow the master.
    held=$(ss -Htn state established "( sport = :$port )" 2> /dev/null | wc -l)
    [ "$held" -ge "$connections" ] && break
    [ $SECONDS -lt $deadline ] || { echo "idle-100k.sh: only $held of $connections connections held" >&2; exit 1; }
    sleep 2
done
sleep 3
after=$(rss)
roles_after=$(rss_by_role)
ticks_start=$(cpu_ticks)
sleep "$idle"
ticks_end=$(cpu_ticks)
hz=$(getconf CLK_TCK)
python3 - "$connections" "$before" "$after" "$ticks_start" "$ticks_end" "$hz" "$idle" "$ping_interval" "$client_io" "$roles_before" "$roles_after" "$gateways" << 'PY'
import sys
n, before, after, t0, t1, hz, idle, ping, io, roles_before, roles_after, gateways = sys.argv[1:]
kib = lambda text: dict(item.split("=") for item in text.split())
rb, ra = kib(roles_before), kib(roles_after)
n, before, after, t0, t1, hz, idle = int(n), int(before), int(after), int(t0), int(t1), int(hz), float(idle)
cpu = (t1 - t0) / hz
print(f"client_io {io}: {n} idle connections over {gateways} gateway process(es), ping_interval {ping} s")
print(f"RSS over every gatewayd process: {before / 2**20:.1f} MiB before, {after / 2**20:.1f} MiB held: {(after - before) / n:.0f} B per connection")
print("per process: " + ", ".join(f"{name} {(int(ra[name]) - int(rb[name])) * 1024 / int(n):.0f} B" for name in sorted(ra) if name in rb))
print(f"CPU while holding them for {idle:.0f} s: {cpu:.2f} s ({100 * cpu / idle:.2f} % of one core)")
PY
