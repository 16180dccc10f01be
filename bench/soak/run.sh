#!/usr/bin/env bash
# Soak (issue 15, item 4; not for CI): gatewayd (2 gateways, 2 workers, the C conformance
# plugin) under 30 minutes of mixed load — echo, broadcasts, room joins and leaves, session
# updates read back, 1 % of the connections churning every second — with a `gatewayd reload`
# every 30 s and a worker crash every 5 minutes (the first at 2.5 min). The RSS of every
# process is sampled every 10 s (rss.csv), plotted (rss.png) and summarised (summary.json and
# the printed summary) with PASS/FAIL per criterion: nothing lost outside the counted crash
# events (events_lost = crashes), no broadcast gap or duplicate, every reload completed, and
# no RSS growth beyond 5 % after warm-up (judged on runs of 10 minutes or more).
# The load generator is the Go program beside this script (main.go says what it checks).
#
#   bench/soak/run.sh [--minutes N] [--clients N] [--out DIR]
#       defaults: 30 minutes, 200 clients, DIR = bench/results/soak-<date>
#   e.g. a quick check: bench/soak/run.sh --minutes 3 --clients 100 --out /tmp/soak-check
#
# Uses .build-release/release/gatewayd (built when missing), cc, and Go with Debian's
# gorilla/websocket (golang-github-gorilla-websocket-dev) in GOPATH mode: no network.
# Exits with the soak's status: 0 when every judged criterion passes.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
minutes=30
clients=200
out=
while [ $# -gt 0 ]; do
    case $1 in
        --minutes) minutes=$2; shift 2 ;;
        --clients) clients=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "run.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
    esac
done
if [ -z "$out" ]; then
    out=$root/bench/results/soak-$(date +%F)
    [ -e "$out" ] && out=$out-$(date +%H%M)
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)

bin=$root/.build-release/release/gatewayd
work=$(mktemp -d /tmp/gwd-soak-XXXXXX)
cleanup() {
    "$bin" stop --run-dir "$work/run" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

# gatewayd: the existing release build, else build it.
if [ ! -x "$bin" ]; then
    echo "== building gatewayd (release)"
    (cd "$root" && swift build -c release --scratch-path .build-release --product gatewayd)
fi

# The plugin: built once; the workers load live.so, which every reload reads again.
cc -std=c99 -O2 -shared -fPIC -fvisibility=hidden -pthread -I "$root/include" \
    "$root/plugins/conformance-c/conformance.c" -o "$work/conformance.so"
mkdir -p "$work/plugin"
cp "$work/conformance.so" "$work/plugin/live.so"

# The soak program, offline in GOPATH mode (as ../shared/tools/wsload/build.sh does).
echo "== building the soak program"
(cd "$root/bench/soak" && GO111MODULE=off GOFLAGS= GOCACHE="${GOCACHE:-${TMPDIR:-/tmp}/soak-gocache}" \
    GOPATH="${SOAK_GOPATH:-/usr/share/gocode}" go build -trimpath -o "$work/soak" .)

# gatewayd as a daemon; port 0 picks a free port, which the ready line reports.
echo "== starting gatewayd: 2 gateways, 2 workers"
"$bin" start -d --run-dir "$work/run" --plugin "$work/plugin/live.so" \
    --listen websocket://127.0.0.1:0 --register 127.0.0.1:0 --start-port 0 \
    --gateway-count 2 --worker-count 2 --log-level warning | tee "$work/ready"
port=$(grep -o 'listen=websocket://127.0.0.1:[0-9]*' "$work/ready" | cut -d: -f3)
[ -n "$port" ] || { echo "run.sh: no listen port in the ready line" >&2; exit 1; }
"$bin" --version > "$out/gatewayd-version.txt" 2>&1 || true
(cd "$root" && git rev-parse HEAD 2>/dev/null && git status --short -- Sources plugins 2>/dev/null) \
    > "$out/git-state.txt" || true

echo "== soak: $minutes min, $clients clients -> $out"
status=0
"$work/soak" -url "ws://127.0.0.1:$port/" -run-dir "$work/run" -gatewayd "$bin" \
    -duration "${minutes}m" -clients "$clients" -reload-every 30s -crash-every 5m \
    -sample-every 10s -out "$out" 2>&1 | tee "$out/soak.txt" || status=$?
# (with pipefail, status is the soak's unless tee failed)

"$bin" stop --run-dir "$work/run" || true
cp "$work/run/gatewayd.log" "$out/gatewayd.log" 2>/dev/null || true
echo "== gatewayd log: $out/gatewayd.log ($(wc -l < "$out/gatewayd.log" 2>/dev/null || echo 0) lines)"
exit "$status"
