#!/usr/bin/env bash
# The backend side of the push demo: sends a message to one client id or to everyone, or asks
# how many clients are connected — with `gatewayd client`, or with curl when the HTTP API is
# given.
#   examples/push/push.sh <client id> "message"
#   examples/push/push.sh all "message"
#   examples/push/push.sh count
# gatewayd client finds a cluster running in the default run directory by itself; REGISTER
# and SECRET_KEY point it elsewhere. With HTTP_API (e.g. http://127.0.0.1:7273) and
# HTTP_API_TOKEN set, the same calls go to the HTTP API instead.
set -euo pipefail
cd "$(dirname "$0")/../.."
usage='usage: push.sh <client id>|all "message" | push.sh count'
target=${1:?$usage}
message=${2:-}
[ "$target" = count ] || [ -n "$message" ] || { echo "$usage" >&2; exit 2; }

json_string() {  # a shell string as a JSON string
    local s=${1//\\/\\\\}
    s=${s//\"/\\\"}
    printf '"%s"' "$s"
}

if [ -n "${HTTP_API:-}" ]; then
    post() {  # post <function> <json>
        curl -sS --fail-with-body -H "Authorization: Bearer ${HTTP_API_TOKEN:?set HTTP_API_TOKEN}" \
            -H 'Content-Type: application/json' -d "$2" "$HTTP_API/v1/$1"
    }
    case "$target" in
    count) post get-all-client-id-count '{}' ;;
    all) post send-to-all "{\"message\":$(json_string "$message")}" ;;
    *) post send-to-client "{\"client_id\":$(json_string "$target"),\"message\":$(json_string "$message")}" ;;
    esac
    exit
fi

gatewayd=.build/debug/gatewayd
[ -x "$gatewayd" ] || swift build --product gatewayd
options=()
[ -n "${REGISTER:-}" ] && options+=(--register "$REGISTER")
[ -n "${SECRET_KEY:-}" ] && options+=(--secret-key "$SECRET_KEY")
case "$target" in
count) "$gatewayd" client get-all-client-id-count ${options[@]+"${options[@]}"} ;;
all) "$gatewayd" client send-to-all "$message" ${options[@]+"${options[@]}"} ;;
*) "$gatewayd" client send-to-client "$target" "$message" ${options[@]+"${options[@]}"} ;;
esac
