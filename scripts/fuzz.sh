#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ (release, -sanitize=fuzzer,address) and runs each for
# a while on a fresh copy of its seed corpus, printing one summary line per target.
#
#   scripts/fuzz.sh [--seconds N] [--check] [--no-build] [target...]
#
#   --seconds N   how long each target runs (default 600)
#   --check       CI mode: every target briefly, 30 s in all (overrides --seconds)
#   --no-build    use the binaries already in fuzz/.build
#   target...     some of: FuzzInner FuzzRegister FuzzPHPSerialize FuzzWebSocket FuzzGatewayInner
#                 FuzzTextFrame FuzzEvents FuzzWebSocketCodec FuzzStreamScanners
#                 (default: all)
#
# Exits non-zero when a target crashes (or trips a check); its reproducer is written to
# fuzz/artifacts/<target>-crash-<sha1>, its log to fuzz/.build/logs/<target>.log. Rerun one
# input with: fuzz/.build/release/<target> fuzz/artifacts/<file>  (see docs/fuzzing.md).
# Everything runs under `nice -n 19`, one target at a time. FUZZ_ARGS adds libFuzzer flags
# (e.g. FUZZ_ARGS="-dict=my.dict").
set -euo pipefail
cd "$(dirname "$0")/.."

all_targets=(FuzzInner FuzzRegister FuzzPHPSerialize FuzzWebSocket FuzzGatewayInner FuzzTextFrame FuzzEvents FuzzWebSocketCodec FuzzStreamScanners)
seconds=600
check=false
build=true
targets=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --seconds) seconds="$2"; shift 2 ;;
        --seconds=*) seconds="${1#*=}"; shift ;;
        --check) check=true; shift ;;
        --no-build) build=false; shift ;;
        -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
        *) targets+=("$1"); shift ;;
    esac
done
[[ ${#targets[@]} -gt 0 ]] || targets=("${all_targets[@]}")
for target in "${targets[@]}"; do
    [[ " ${all_targets[*]} " == *" $target "* ]] || { echo "fuzz.sh: no target $target (have: ${all_targets[*]})" >&2; exit 2; }
done
if $check; then
    seconds=$(( 30 / ${#targets[@]} ))
    (( seconds >= 3 )) || seconds=3
fi

scratch=fuzz/.build
build_flags=(-c release --package-path fuzz --scratch-path "$scratch"
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing)
if $build; then
    echo "building the fuzz targets (release, -sanitize=fuzzer,address)..."
    mkdir -p "$scratch"
    nice -n 19 swift build "${build_flags[@]}" >"$scratch/build.log" 2>&1 || { cat "$scratch/build.log" >&2; exit 1; }
fi
bin=$(swift build "${build_flags[@]}" --show-bin-path)
mkdir -p fuzz/artifacts "$scratch/logs" "$scratch/work"

# Leak checking is off: the process-wide control link (GatewayHarness) and the Swift runtime's
# lazily filled caches read as leaks. Unbounded growth still trips -rss_limit_mb.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}"
failed=0
printf '%-18s %7s %12s %8s %8s %7s  %s\n' target seconds execs cov ft corpus result
for target in "${targets[@]}"; do
    work="$scratch/work/$target"
    rm -rf "$work"
    cp -r "fuzz/corpus/$target" "$work"
    log="$scratch/logs/$target.log"
    start=$(date +%s)
    status=0
    # -rss_limit_mb: far above what a target needs; a leak per input would hit it.
    nice -n 19 "$bin/$target" "$work" -max_total_time="$seconds" -print_final_stats=1 \
        -artifact_prefix="fuzz/artifacts/$target-" -rss_limit_mb=4096 -timeout=25 \
        -detect_leaks=0 ${FUZZ_ARGS:-} >"$log" 2>&1 || status=$?
    elapsed=$(( $(date +%s) - start ))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    # The last status line: "#1234  REDUCE cov: 812 ft: 2034 corp: 301/12Kb ..."
    last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
    if [[ $status -eq 0 ]]; then
        result=ok
    else
        failed=1
        artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
        result="CRASH (exit $status) ${artifact:-see $log}"
    fi
    printf '%-18s %7s %12s %8s %8s %7s  %s\n' "$target" "$elapsed" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$result"
done
exit $failed
