#!/bin/sh
# One libFuzzer target for CI: replays every committed crash input of the
# target (tests/fuzz/regressions/NAME/), then fuzzes from the committed seed
# corpus for $LIVECAST_FUZZ_SECONDS seconds (20 unless set). New inputs go to
# WORKDIR/corpus (kept between local runs), crashes to WORKDIR/.
#
# The random seed is fixed ($LIVECAST_FUZZ_SEED, 1 unless set): from a fresh
# clone every machine tries the same inputs in the same order, a faster one
# just gets further, so CI does not fail on a find that depends on luck.
# Looking for new bugs is a separate, longer run with a random seed:
#   LIVECAST_FUZZ_SEED=0 LIVECAST_FUZZ_SECONDS=600 scripts/fuzz.sh
# Usage: run-fuzzer.sh FUZZER SEED_DIR REGRESSION_DIR WORKDIR [libFuzzer options]
set -eu
fuzzer=$1 seeds=$2 regressions=$3 work=$4
shift 4
seconds=${LIVECAST_FUZZ_SECONDS:-20}
seed=${LIVECAST_FUZZ_SEED:-1}
name=$(basename "$fuzzer")

# Reports end the run: halt on the first, leaks included. The replay records
# full (slow) stacks on malloc: GLib has no frame pointers, and the
# suppressions need them.
replay_asan="halt_on_error=1:detect_leaks=1:abort_on_error=0:fast_unwind_on_malloc=0:symbolize=1"
# Fuzzing records fast stacks, 20 to 40 times more inputs a second. libFuzzer
# checks for leaks after every input that allocated more than it freed; the
# check at exit is off because it would report a one-time allocation of a
# library constructor that only a full stack can match to its suppression.
# A leak found this way is replayed with full stacks to see where it is.
fuzz_asan="halt_on_error=1:detect_leaks=1:leak_check_at_exit=0:abort_on_error=0:symbolize=1"
if [ -n "${ASAN_OPTIONS:-}" ]; then
  replay_asan=$ASAN_OPTIONS fuzz_asan=$ASAN_OPTIONS
fi
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=${LSAN_SUPPRESSIONS:-/dev/null}:print_suppressions=0}"
export G_SLICE=always-malloc
export G_DEBUG=gc-friendly
mkdir -p "$work/corpus"

if [ -d "$regressions" ] && [ -n "$(ls -A "$regressions" 2>/dev/null)" ]; then
  count=$(ls "$regressions" | wc -l)
  echo "$name: replaying $count committed crash input(s) from $regressions"
  # Each file is run once; any report fails the test.
  ASAN_OPTIONS=$replay_asan "$fuzzer" -rss_limit_mb=2048 -timeout=10 "$regressions"/* \
    2>"$work/replay.log" || {
    cat "$work/replay.log" >&2
    echo "$name: a committed crash input fails again (see above)" >&2
    exit 1
  }
fi

echo "$name: fuzzing for $seconds s from $seeds (seed $seed)"
set +e
ASAN_OPTIONS=$fuzz_asan "$fuzzer" -seed="$seed" -max_total_time="$seconds" -rss_limit_mb=2048 \
  -timeout=10 -max_len=65536 \
  -print_final_stats=1 -artifact_prefix="$work/" "$@" "$work/corpus" "$seeds" 2>"$work/fuzz.log"
status=$?
set -e
# What was covered: executions, speed, corpus size.
grep -E '^(INFO: seed corpus|#[0-9]+ +DONE|stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb)' "$work/fuzz.log" || true
if [ "$status" != 0 ]; then
  tail -n 80 "$work/fuzz.log" >&2
  echo "$name: the fuzzer found a problem; the input is in $work/ (crash-*, leak-*, timeout-*, oom-*)." >&2
  echo "For full stacks, run it again: ASAN_OPTIONS=$replay_asan $fuzzer $work/<input>" >&2
  echo "Fix it, and commit the input as tests/fuzz/regressions/${name#fuzz_}/<what-it-was>." >&2
  exit 1
fi
