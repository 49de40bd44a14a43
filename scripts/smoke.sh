#!/usr/bin/env bash
# End-to-end check of the command-line tool, as a user runs it: synth -> scan -> preprocess -> inspect -> a second
# reader (h5dump) -> train -> evaluate -> predict -> export (ONNX) -> crossval, plus bad input that must give a
# one-line error and a non-zero exit.
# Run by `make test` after the Swift tests; prints "smoke: N passed, M failed".
set -uo pipefail
GENRE=${GENRE:-.build/release/genre}
work=$(mktemp -d "${TMPDIR:-/tmp}/genrekit-smoke-XXXXXX")
trap 'rm -rf "$work"' EXIT
passed=0; failed=0
check() {  # check NAME COMMAND...: the command must succeed
  local name=$1; shift
  if "$@" >"$work/out.txt" 2>&1; then passed=$((passed + 1)); echo "ok   $name"
  else failed=$((failed + 1)); echo "FAIL $name"; sed 's/^/     /' "$work/out.txt" | tail -20; fi
}
refuse() {  # refuse NAME PATTERN COMMAND...: the command must fail with a one-line error matching PATTERN
  local name=$1 pattern=$2; shift 2
  if "$@" >"$work/out.txt" 2>&1; then failed=$((failed + 1)); echo "FAIL $name (succeeded)"
  elif grep -q "^error: .*$pattern" "$work/out.txt" && [ "$(grep -c '^error:' "$work/out.txt")" -eq 1 ]; then
    passed=$((passed + 1)); echo "ok   $name"
  else failed=$((failed + 1)); echo "FAIL $name"; sed 's/^/     /' "$work/out.txt" | tail -5; fi
}

cat >"$work/pipeline.toml" <<'TOML'
name = "smoke"
[audio]
clip_seconds = 3.0
[shards]
clips_per_shard = 16
TOML
check "synth" "$GENRE" synth "$work/corpus" --clips-per-genre 5 --seconds 3 --seed 5
printf 'not audio at all' >"$work/corpus/rock/broken.wav"
check "scan" "$GENRE" scan "$work/corpus"
grep -q "broken.wav" "$work/out.txt" && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL scan names the broken file"; }
check "preprocess" "$GENRE" preprocess --corpus "$work/corpus" --pipeline "$work/pipeline.toml" --out "$work/shards" --jobs 2
grep -q "rock/broken.wav" "$work/shards/report.json" \
  && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL report.json lists the skipped file"; }
check "inspect" "$GENRE" inspect "$work/shards"
check "h5dump reads a shard" bash -c "h5dump -H '$work/shards/train-00000.h5' | grep -q 'DATASET \"mel\"' && h5dump -d /label '$work/shards/train-00000.h5' >/dev/null && h5ls '$work/shards/train-00000.h5/norm' | grep -q mean"
check "train" "$GENRE" train --shards "$work/shards" --out "$work/run" --config pipelines/demo-train.toml --epochs 2
check "evaluate" "$GENRE" evaluate --checkpoint "$work/run/best.h5" --shards "$work/shards" --split test --out "$work/eval"
check "report files" test -s "$work/eval/report.html" -a -s "$work/eval/metrics.json" -a -s "$work/eval/confusion.csv"
check "predict" "$GENRE" predict --checkpoint "$work/run/best.h5" "$work/corpus/jazz/jazz.00001.wav" "$work/corpus/pop/pop.00000.au"
check "predict --json" bash -c "'$GENRE' predict --json --checkpoint '$work/run/best.h5' '$work/corpus/jazz/jazz.00001.wav' | grep -q '\"windows\"'"
# A whole folder on 2 workers, with rock/broken.wav in it: exit 2, one error line naming it, a CSV row with its
# reason, every other file predicted.
"$GENRE" predict --checkpoint "$work/run/best.h5" --jobs 2 --csv "$work/predict.csv" "$work/corpus" >"$work/predict.log" 2>&1
check "predict a folder with a corrupt file" python3 -c "import csv, sys; status, log, out = int(sys.argv[1]), \
open(sys.argv[2]).read(), list(csv.reader(open(sys.argv[3]))); rows = out[1:]; \
assert status == 2, ('exit', status, log); errors = [l for l in log.splitlines() if l.startswith('error:')]; \
assert len(errors) == 1 and 'rock/broken.wav' in errors[0], log; \
assert out[0] == 'path,top1,p1,top2,p2,top3,p3,seconds,error'.split(','), out[0]; \
assert len(rows) == 51 and [r[0] for r in rows] == sorted(r[0] for r in rows), len(rows); \
bad = [r for r in rows if r[8]]; assert len(bad) == 1 and bad[0][0].endswith('rock/broken.wav') and not any(bad[0][1:8]), bad; \
assert all(r[1] and 0 < float(r[2]) <= 1 and float(r[7]) > 2.9 for r in rows if not r[8])" $? "$work/predict.log" "$work/predict.csv"
check "predict --json lists the failure" bash -c "'$GENRE' predict --json --checkpoint '$work/run/best.h5' '$work/corpus/rock' 2>/dev/null \
  | python3 -c 'import json, sys; d = json.load(sys.stdin); assert len(d[\"predictions\"]) == 5 and len(d[\"failures\"]) == 1, d[\"failures\"]'"
check "resume a finished run" "$GENRE" train --resume "$work/run"

# ONNX export: the trained checkpoint as model.onnx + model.json. With Python's onnx and onnxruntime, the checker and
# onnxruntime run on the evaluation windows of 3 test clips read from the shards (h5py) and are compared with genre's
# own logits for exactly those windows (genre export --reference-windows): max abs difference <= 1e-4.
check "export" "$GENRE" export --checkpoint "$work/run/best.h5" --onnx "$work/model.onnx"
check "export writes model.json" python3 -c "import json, sys; d = json.load(open(sys.argv[1])); \
assert d['inputs'][0]['name'] == 'spectrogram' and len(d['metadata_props']['genrekit.classes']) == 10, d" "$work/model.json"
refuse "export of a missing checkpoint" "no-such.h5" "$GENRE" export --checkpoint "$work/no-such.h5" --onnx "$work/x.onnx"
refuse "export to a missing folder" "no-folder/x.onnx" "$GENRE" export --checkpoint "$work/run/best.h5" --onnx "$work/no-folder/x.onnx"
if python3 -c 'import onnx, onnxruntime, h5py, numpy' 2>/dev/null; then
  check "onnxruntime equals genre on shard windows" python3 scripts/check_onnx.py shards --model "$work/model.onnx" \
    --checkpoint "$work/run/best.h5" --shards "$work/shards" --split test --clips 3 --genre "$GENRE"
else
  echo "skip the onnxruntime check: python3 cannot import onnx, onnxruntime, h5py and numpy (make setup installs them)"
fi
# The reference deployment: audio -> librosa features rebuilt from the model's metadata alone -> onnxruntime
# (scripts/onnx_predict.py) gives genre predict's clip probabilities (a .wav and a .au file).
clips="$work/corpus/jazz/jazz.00001.wav $work/corpus/pop/pop.00000.au $work/corpus/metal/metal.00002.au"
if python3 -c 'import onnxruntime, librosa' 2>/dev/null; then
  check "librosa + onnxruntime from the metadata equal genre predict" bash -c "'$GENRE' predict --json \
    --checkpoint '$work/run/best.h5' $clips >'$work/predict.json' && python3 scripts/onnx_predict.py '$work/model.onnx' \
    $clips --compare '$work/predict.json' --tolerance 1e-4"
else
  echo "skip the librosa + onnxruntime deployment check: python3 cannot import onnxruntime and librosa"
fi

refuse "missing corpus" "nonexistent" "$GENRE" preprocess --corpus "$work/nonexistent" --pipeline "$work/pipeline.toml" --out "$work/x"
printf '[mel]\nn_melz = 3\n' >"$work/bad.toml"
refuse "malformed configuration" "mel.n_melz" "$GENRE" preprocess --corpus "$work/corpus" --pipeline "$work/bad.toml" --out "$work/x"
refuse "strict mode" "strict" "$GENRE" preprocess --corpus "$work/corpus" --pipeline "$work/pipeline.toml" --out "$work/y" --strict
refuse "train without shards" "no shards" "$GENRE" train --shards "$work/corpus" --out "$work/r2" --epochs 1
head -c 2000 "$work/run/best.h5" >"$work/truncated.h5"
refuse "truncated checkpoint" "truncated.h5" "$GENRE" evaluate --checkpoint "$work/truncated.h5" --shards "$work/shards"
refuse "unreadable audio for predict" "broken.wav" "$GENRE" predict --checkpoint "$work/run/best.h5" "$work/corpus/rock/broken.wav"

# Cross-validation: 3 folds of the same corpus, a tiny CNN for 2 epochs; summary.json must list the 3 folds.
cat >"$work/crossval-train.toml" <<'TOML'
[model]
channels = [8, 16]
crop_frames = 64
[train]
epochs = 2
batch_size = 8
TOML
check "crossval" "$GENRE" crossval --corpus "$work/corpus" --pipeline "$work/pipeline.toml" --config "$work/crossval-train.toml" \
  --folds 3 --out "$work/cv" --jobs 2
check "crossval summary has 3 folds" python3 -c "import json, sys; s = json.load(open(sys.argv[1])); \
assert s['fold_count'] == 3 and len(s['folds']) == 3 and s['missing'] == [], s; \
assert sum(map(sum, s['confusion'])) == sum(f['clips'] for f in s['folds'])" "$work/cv/summary.json"
check "crossval report" test -s "$work/cv/report.html" -a -s "$work/cv/fold-2/evaluation/metrics.json"
check "crossval --summarise" "$GENRE" crossval --summarise --out "$work/cv"
refuse "crossval fold out of range" "fold 7 is not one of the 5 folds" "$GENRE" crossval --corpus "$work/corpus" \
  --pipeline "$work/pipeline.toml" --fold 7 --out "$work/cv"

# The pre-trained network (musicnn 0.1.0's MSD-VGG): import, tags, a probe and fine-tuning through the ordinary
# commands, on the synthetic clips with the network's front end. Needs the wheel (make test downloads it with pip).
wheel=${GENREKIT_MUSICNN_WHEEL:-models/musicnn-0.1.0-py3-none-any.whl}
refuse "pretrained import of a file that is not a wheel" "not-a-wheel.whl" \
  bash -c "printf 'PK nothing' >'$work/not-a-wheel.whl'; '$GENRE' pretrained import musicnn-msd-vgg --wheel '$work/not-a-wheel.whl' --out '$work/x.h5'"
if [ -f "$wheel" ]; then
  check "pretrained import" "$GENRE" pretrained import musicnn-msd-vgg --wheel "$wheel" --out "$work/musicnn.h5"
  check "tags" "$GENRE" tags --checkpoint "$work/musicnn.h5" "$work/corpus/rock/rock.00001.wav" "$work/corpus/jazz/jazz.00001.wav"
  check "tags --json (taggram)" bash -c "'$GENRE' tags --json --checkpoint '$work/musicnn.h5' '$work/corpus/metal/metal.00002.au' | grep -q '\"windows\"'"
  if python3 -c 'import onnxruntime, librosa' 2>/dev/null; then
    check "musicnn exported: librosa + onnxruntime equal genre tags" bash -c "'$GENRE' export --checkpoint \
      '$work/musicnn.h5' --onnx '$work/musicnn.onnx' >/dev/null && '$GENRE' tags --json --checkpoint '$work/musicnn.h5' \
      $clips >'$work/tags.json' && python3 scripts/onnx_predict.py '$work/musicnn.onnx' $clips --compare '$work/tags.json'"
  fi
  refuse "predict needs a classifier, tags a tagger" "not a tagging network" "$GENRE" tags --checkpoint "$work/run/best.h5" \
    "$work/corpus/rock/rock.00001.wav"
  sed -e 's/^method = .*/method = "random"/' -e 's/^clip_seconds = .*/clip_seconds = 3.0/' pipelines/musicnn.toml >"$work/musicnn.toml"
  check "preprocess (musicnn front end)" "$GENRE" preprocess --corpus "$work/corpus" --pipeline "$work/musicnn.toml" \
    --out "$work/shards-musicnn" --jobs 2
  sed "s#models/musicnn-msd-vgg.h5#$work/musicnn.h5#" pipelines/probe.toml >"$work/probe.toml"
  check "train --config probe.toml" "$GENRE" train --shards "$work/shards-musicnn" --out "$work/probe" --config "$work/probe.toml"
  check "evaluate the probe" "$GENRE" evaluate --checkpoint "$work/probe/best.h5" --shards "$work/shards-musicnn" \
    --split test --out "$work/probe-eval"
  check "the report names the initialisation" grep -q "linear probe" "$work/probe-eval/report.html"
  check "predict with the probe" "$GENRE" predict --checkpoint "$work/probe/best.h5" "$work/corpus/pop/pop.00000.au"
  check "train --init --finetune" "$GENRE" train --shards "$work/shards-musicnn" --out "$work/finetune" \
    --config pipelines/finetune.toml --init "$work/musicnn.h5" --finetune --epochs 2
  check "evaluate the fine-tuned network" "$GENRE" evaluate --checkpoint "$work/finetune/best.h5" \
    --shards "$work/shards-musicnn" --split test --out "$work/finetune-eval"
  refuse "a probe refuses shards of another front end" "features differ" "$GENRE" train --shards "$work/shards" \
    --out "$work/probe-bad" --config "$work/probe.toml"
else
  echo "skip the pre-trained network's commands: no musicnn wheel at $wheel (make test downloads it with pip)"
fi

echo "smoke: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
