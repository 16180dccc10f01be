#!/usr/bin/env bash
# The backend side of the push demo: sends a message to one client id, or to everyone.
#   examples/push/push.sh <client id> "message"
#   examples/push/push.sh all "message"
# REGISTER and SECRET_KEY select the cluster (defaults: 127.0.0.1:1236, none).
set -euo pipefail
cd "$(dirname "$0")/../.."
gatewayd=.build/debug/gatewayd
[ -x "$gatewayd" ] || swift build --product gatewayd
target=${1:?usage: push.sh <client id>|all "message"}
message=${2:?usage: push.sh <client id>|all "message"}
options=(--register "${REGISTER:-127.0.0.1:1236}" --secret-key "${SECRET_KEY:-}")
if [ "$target" = all ]; then
    "$gatewayd" client send-to-all "$message" "${options[@]}"
else
    "$gatewayd" client send-to-client "$target" "$message" "${options[@]}"
fi
