#!/usr/bin/env bash
# Runs the Autobahn TestSuite (wstest -m fuzzingclient) against a gateway serving the C
# conformance plugin's /raw-echo path, prints the verdict counts, and fails if any case FAILED.
#
#   scripts/autobahn.sh [--cases "1.* 2.* ..."] [--report DIR] [--tls]
#
# --tls: over wss:// (a self-signed certificate made with the openssl command; wstest does not
# verify it).
#
# Installs wstest (autobahntestsuite 25.10.1, Python 2.7 from pyenv) when it is missing.
# Sections 1-7, 9, 10, 12 and 13 by default, with permessage-deflate on (`compression: true`):
# 12 and 13 are its sections, and the others run with a client that does not offer it.
set -euo pipefail
cd "$(dirname "$0")/.."

cases="1.* 2.* 3.* 4.* 5.* 6.* 7.* 9.* 10.* 12.* 13.*"
tls=""
report="${TMPDIR:-/tmp}/gatewayd-autobahn-$$"
while [ $# -gt 0 ]; do
    case "$1" in
        --cases) cases="$2"; shift 2 ;;
        --report) report="$2"; shift 2 ;;
        --tls) tls=1; shift ;;
        *) echo "usage: $0 [--cases \"1.* 2.*\"] [--report DIR] [--tls]" >&2; exit 2 ;;
    esac
done

# wstest lives in pyenv's Python 2.7.
pyenv_root="$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"
wstest="$pyenv_root/versions/2.7.18/bin/wstest"
python27="$pyenv_root/versions/2.7.18/bin/python2.7"
if [ ! -x "$wstest" ]; then
    if [ ! -x "$python27" ]; then
        echo "autobahn: needs Python 2.7.18 from pyenv at $python27 (pyenv install 2.7.18)" >&2
        exit 1
    fi
    echo "autobahn: installing autobahntestsuite 25.10.1 into Python 2.7.18" >&2
    "$python27" -m pip install -q setuptools==44.0.0
    "$python27" -m pip install -q autobahntestsuite==25.10.1
fi

# A release build: sections 9 and 10 push hundreds of MiB through the gateway and the worker.
swift build -c release --scratch-path .build-release --product gatewayd >&2
gatewayd="$PWD/.build-release/release/gatewayd"
work="$(mktemp -d "${TMPDIR:-/tmp}/gatewayd-autobahn-run.XXXXXX")"
"$gatewayd" plugin build plugins/conformance-c/conformance.c -o "$work/conformance.so" >&2

# 16 MiB messages (case 9.1.6 and friends) must fit.
cat > "$work/gatewayd.yaml" <<YAML
max_message_bytes: 16777216
send_buffer_bytes: 67108864
ping_interval: 0
compression: true
YAML
scheme=ws
listen=websocket://127.0.0.1:0
if [ -n "$tls" ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=127.0.0.1 \
        -keyout "$work/key.pem" -out "$work/cert.pem" 2> /dev/null
    printf 'tls_certificate: cert.pem\ntls_private_key: key.pem\n' >> "$work/gatewayd.yaml"
    scheme=wss
    listen=wss://127.0.0.1:0
fi
"$gatewayd" start -d --config "$work/gatewayd.yaml" --plugin "$work/conformance.so" --run-dir "$work/run" \
    --listen "$listen" --register 127.0.0.1:0 --start-port 0 \
    --gateway-count 1 --worker-count 1 > "$work/start.out"
trap '"$gatewayd" stop --run-dir "$work/run" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
url="$(sed -n 's/.*listen=\([a-z]*:\/\/[^ ,]*\).*/\1/p' "$work/start.out" | head -1)"
port="${url##*:}"
echo "autobahn: gatewayd serving $scheme://127.0.0.1:$port/raw-echo" >&2

mkdir -p "$report"
case_list="$(printf '"%s",' $cases)"
cat > "$work/spec.json" <<JSON
{
  "outdir": "$report",
  "servers": [{"agent": "gatewayd", "url": "$scheme://127.0.0.1:$port/raw-echo"}],
  "cases": [${case_list%,}],
  "exclude-cases": [],
  "exclude-agent-cases": {}
}
JSON
(cd "$work" && "$wstest" -m fuzzingclient -s spec.json > "$work/wstest.log" 2>&1) || {
    tail -20 "$work/wstest.log" >&2
    echo "autobahn: wstest failed" >&2
    exit 1
}

# index.json: {agent: {case: {behavior, behaviorClose, ...}}}
python3 - "$report/index.json" <<'PY'
import collections, json, sys
index = json.load(open(sys.argv[1]))
results = index["gatewayd"]
counts = collections.Counter(r["behavior"] for r in results.values())
def key(case):
    return [int(p) for p in case.split(".")]
print("autobahn: %d cases: %s" % (len(results), ", ".join("%s %d" % kv for kv in sorted(counts.items()))))
for verdict in ("NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED"):
    names = sorted((c for c, r in results.items() if r["behavior"] == verdict), key=key)
    if names:
        print("  %-13s %s" % (verdict, " ".join(names)))
closing = sorted((c for c, r in results.items() if r["behaviorClose"] == "FAILED"), key=key)
if closing:
    print("  close FAILED  %s" % " ".join(closing))
sys.exit(1 if counts.get("FAILED") or closing else 0)
PY
echo "autobahn: report in $report/index.html" >&2
