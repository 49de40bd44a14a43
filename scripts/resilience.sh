#!/usr/bin/env bash
# Interruptions, full disks and reruns, as a user meets them: `genre preprocess` stopped by SIGINT, SIGTERM and
# SIGKILL mid-run and run again; shard writes failing on a file-size limit, then the rerun after the limit is gone;
# `genre train` killed mid-epoch and resumed. Every rerun must give exactly what an undisturbed run gives
# (h5diff), and nothing incomplete may ever stand under a final name. Run by `make test`; prints
# "resilience: N passed, M failed".
set -uo pipefail
GENRE=${GENRE:-.build/release/genre}
work=$(mktemp -d "${TMPDIR:-/tmp}/genrekit-resilience-XXXXXX")
trap 'rm -rf "$work"' EXIT
passed=0; failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; [ -f "$work/log" ] && sed 's/^/     /' "$work/log" | tail -8; }

# A corpus slow enough to interrupt: 44.1 kHz stereo clips through libsamplerate's medium sinc converter.
"$GENRE" synth "$work/corpus" --clips-per-genre 8 --seconds 5 --seed 9 --formats wav44100 >/dev/null
cat >"$work/pipeline.toml" <<'TOML'
name = "resilience"
[audio]
clip_seconds = 5.0
resampler = "sinc-medium"
[shards]
clips_per_shard = 16
TOML
preprocess() { "$GENRE" preprocess --corpus "$work/corpus" --pipeline "$work/pipeline.toml" --jobs 2 --out "$@"; }
preprocess "$work/reference" --no-cache >"$work/log" 2>&1 || bad "undisturbed run"

same_shards() {  # same_shards DIR: every shard equals the reference's, tensor for tensor (h5diff)
  local dir=$1 f
  [ "$(cd "$dir" && ls *.h5 | sort)" = "$(cd "$work/reference" && ls *.h5 | sort)" ] || return 1
  for f in "$work/reference"/*.h5; do h5diff -q "$f" "$dir/$(basename "$f")" >/dev/null 2>&1 || return 1; done
}
nothing_partial() {  # no temporary or partial file left under the output folder
  [ -z "$(find "$1" -name '*.partial*' -o -name '.scratch-*' | head -1)" ]
}
# Waiting is on observable events (cache entries, log lines), polled; the bound on the polls only turns a hang
# into a failure (10 minutes), it never decides a result.
wait_for() {  # wait_for PID COMMAND...: until COMMAND succeeds (0), PID ends first (1), or 30000 polls pass (2)
  local pid=$1 i; shift
  for i in $(seq 1 30000); do
    "$@" && return 0
    kill -0 "$pid" 2>/dev/null || { "$@" && return 0; return 1; }
    sleep 0.02
  done
  return 2
}
cache_entries_at_least() { [ "$(ls "$1/.cache" 2>/dev/null | grep -c '\.clip$')" -ge "$2" ]; }
log_lines_at_least() { [ "$(cat "$1" 2>/dev/null | wc -l)" -ge "$2" ]; }

for sig in INT TERM KILL; do
  out="$work/out-$sig"
  # The tool itself in the background (not a shell function: the signal must reach genre, not a subshell).
  "$GENRE" preprocess --corpus "$work/corpus" --pipeline "$work/pipeline.toml" --jobs 2 --out "$out" >"$work/log" 2>&1 &
  pid=$!
  # 3 finished clips of 80: the run is well under way and far from done (each clip takes a resampling of 5 s of
  # 44.1 kHz stereo; the rest takes many times longer than the polling interval).
  wait_for "$pid" cache_entries_at_least "$out" 3; waited=$?
  if [ "$waited" -ne 0 ]; then
    kill -KILL "$pid" 2>/dev/null; wait "$pid"
    [ "$waited" -eq 1 ] && bad "SIG$sig: the run ended before 3 clips were cached" || bad "SIG$sig: no clip cached after 10 minutes"
    continue
  fi
  kill -s "$sig" "$pid"
  wait "$pid"; status=$?
  case $sig in
    INT) want=130 ;;
    TERM) want=143 ;;
    KILL) want=137 ;;
  esac
  [ "$status" -eq "$want" ] && ok "SIG$sig stops the run (exit $status)" || bad "SIG$sig: exit status $status, expected $want"
  [ ! -f "$out/report.json" ] && ok "SIG$sig landed mid-run (no report)" || bad "SIG$sig: the run had finished before the signal"
  if [ "$sig" != KILL ]; then
    grep -q "run the same command again" "$work/log" && ok "SIG$sig says how to continue" || bad "SIG$sig: no line saying how to continue"
  fi
  nothing_partial "$out" && ok "SIG$sig leaves nothing partial" || bad "SIG$sig left a partial file"
  [ -z "$(ls "$out"/*.h5 2>/dev/null)" ] || h5dump -H "$out"/*.h5 >/dev/null 2>&1 || bad "SIG$sig: a shard under its final name does not open"
  preprocess "$out" >"$work/log" 2>&1 && ok "SIG$sig: the rerun completes" || bad "SIG$sig: the rerun failed"
  grep -q '"cached" : [1-9]' "$out/report.json" && ok "SIG$sig: the rerun reuses finished clips" || bad "SIG$sig: no clip came from the cache"
  same_shards "$out" && ok "SIG$sig: shards equal an undisturbed run's" || bad "SIG$sig: shards differ from an undisturbed run's"
done

# A full disk, simulated by a file-size limit smaller than a shard (16 clips of 128 x 216 floats = 1.8 MB) but
# larger than a cached clip (110 KB).
out="$work/out-full"
(ulimit -f 1024; preprocess "$out" >"$work/log" 2>&1)
status=$?
[ "$status" -ne 0 ] && grep -q "^error: .*h5" "$work/log" && ok "full disk: a clear error naming the shard" || bad "full disk: exit $status"
nothing_partial "$out" && [ -z "$(ls "$out"/*.h5 2>/dev/null)" ] && ok "full disk: no incomplete shard" || bad "full disk: a partial shard is left"
preprocess "$out" >"$work/log" 2>&1 && same_shards "$out" && ok "full disk: the rerun completes and equals an undisturbed run" \
  || bad "full disk: the rerun failed or differs"

# Training killed mid-epoch, then resumed: the same model as an undisturbed run.
cat >"$work/train.toml" <<'TOML'
[model]
channels = [8, 16, 32, 32]
crop_frames = 128
[train]
epochs = 6
batch_size = 16
seed = 4
patience = 0
TOML
train() { "$GENRE" train --shards "$work/reference" --config "$work/train.toml" --out "$@"; }
train "$work/run-reference" >"$work/log" 2>&1 || bad "undisturbed training"
"$GENRE" train --shards "$work/reference" --config "$work/train.toml" --out "$work/run" >"$work/log" 2>&1 &
pid=$!
# Killed as soon as 2 of the 6 epochs are logged: wherever it lands (mid-epoch or while a checkpoint is written),
# last.h5 must be whole and the resumed run must equal the undisturbed one.
wait_for "$pid" log_lines_at_least "$work/run/log.jsonl" 2 || bad "training: 2 epochs were not logged while it ran"
kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
lines=$(cat "$work/run/log.jsonl" 2>/dev/null | wc -l)
[ "$lines" -ge 1 ] && [ "$lines" -lt 6 ] && ok "training killed in epoch $((lines + 1))" || bad "training was not killed mid-run ($lines epochs logged)"
h5dump -H "$work/run/last.h5" >/dev/null 2>&1 && ok "last.h5 is complete after the kill" || bad "last.h5 is damaged after the kill"
"$GENRE" train --resume "$work/run" >"$work/log" 2>&1 && ok "training resumes" || bad "training --resume failed"
h5diff -q "$work/run-reference/last.h5" "$work/run/last.h5" /model /model >/dev/null 2>&1 \
  && ok "the resumed model equals the undisturbed one, weight for weight" || bad "the resumed model differs"
cmp -s <(grep -o '"valid_accuracy":[0-9.e-]*' "$work/run-reference/log.jsonl") <(grep -o '"valid_accuracy":[0-9.e-]*' "$work/run/log.jsonl") \
  && ok "the resumed run logs the same validation accuracies" || bad "validation accuracies differ after resume"

echo "resilience: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
