#!/usr/bin/env bash
# Runs every test of the project: unit tests of each module and the end-to-end tests that
# start real gatewayd processes and talk WebSocket to them over loopback.
#
# The Swift plugins are built first (release, as `gatewayd plugin build` does), because the
# SDK tests and the end-to-end suite load them; nothing is skipped for want of a build.
set -euo pipefail
cd "$(dirname "$0")/.."

swift build
for plugin in conformance-swift hello-swift; do
    swift build -c release --package-path "plugins/$plugin"
done
export GATEWAYD_SWIFT_PLUGIN="$PWD/plugins/conformance-swift/.build/release/libConformanceSwift.so"
swift test "$@"
# The gateway's way back (client_io: nio, SwiftNIO channels) stays tested: the suites about
# clients, limits, heartbeats, reload, stop and metrics run again on it (unless a filter was given).
if [[ " $* " != *" --filter "* ]]; then
    GATEWAYD_CLIENT_IO=nio swift test --skip-build \
        --filter 'EndToEndTests\.(ClientProtocolTests|ClientLimitsTests|HeartbeatTests|ExamplePluginTests|ReloadTests|GracefulStopTests|SlowHandlerTests|MetricsTests)'
fi

