#!/usr/bin/env bash
# Fuzzes the shard and checkpoint readers in child processes, so that a crash or a hang inside the HDF5 C library
# is reported (with the mutation that caused it) instead of killing the test run.
#
#   scripts/fuzz_readers.sh [SEEDS] [ITERATIONS] [TIMEOUT_SECONDS]     (defaults: 20 seeds, 300 iterations, 120 s)
#
# Needs a release test build: swift build -c release -Xswiftc -enable-testing --product GenreKitPackageTests
# For each seed and each reader it runs ReaderFuzzTests with GENREKIT_FUZZ_SEED/ITERATIONS set; the mutation being
# tried is logged (and synced) before each attempt, and the mutated file is kept under fuzz-out/, so the last
# line of a crashed run's log names the culprit and fuzz-out/<seed>-<test>-*.h5 is the file.
set -u
seeds=${1:-20}
iterations=${2:-300}
limit=${3:-120}
root=$(cd "$(dirname "$0")/.." && pwd)
binary=$(ls -d "$root"/.build/*/release/GenreKitPackageTests.xctest 2>/dev/null | head -1)
[ -n "$binary" ] || { echo "no release test build in $root/.build (see the header of this script)" >&2; exit 2; }
out=${FUZZ_OUT:-$root/fuzz-out}
mkdir -p "$out"
failures=0
for seed in $(seq 1 "$seeds"); do
  for test in damagedShardsThrowOrReadCleanly damagedCheckpointsThrowOrLoad; do
    log="$out/$seed-$test.log"
    : > "$log"
    GENREKIT_FUZZ_SEED=$seed GENREKIT_FUZZ_ITERATIONS=$iterations GENREKIT_FUZZ_LOG="$log" \
      GENREKIT_FUZZ_DUMP="$out/$seed-$test" \
      timeout "$limit" "$binary" --testing-library swift-testing --filter "ReaderFuzzTests/$test" \
      > "$out/$seed-$test.out" 2>&1
    status=$?
    case $status in
      0) rm -f "$out/$seed-$test"-*.h5 ;;
      124) echo "HANG  seed $seed $test: $(tail -1 "$log")"; failures=$((failures + 1)) ;;
      *) if grep -q "recorded an issue" "$out/$seed-$test.out"; then
           echo "FAIL  seed $seed $test: $(grep -m1 'recorded an issue' "$out/$seed-$test.out")"
         else
           echo "CRASH seed $seed $test (status $status): $(tail -1 "$log")"
         fi
         failures=$((failures + 1)) ;;
    esac
  done
done
echo "$seeds seeds x $iterations mutations x 2 readers: $failures failing runs (logs in $out)"
[ "$failures" -eq 0 ]
