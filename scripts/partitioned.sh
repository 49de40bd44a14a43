#!/usr/bin/env bash
# Partitioned preprocessing as a cluster runs it, with local processes and no scheduler: four `genre preprocess`
# processes at once, the part chosen by --part or by the variables Slurm and Kubernetes set; a part killed and run
# again; then `genre merge`, whose shards must equal those of one run over the whole corpus (h5diff, tensor for
# tensor), run twice; and the refusals (a missing part, parts of other parameters, a bad --part), each one line.
# Run by `make test`; prints "partitioned: N passed, M failed".
set -uo pipefail
GENRE=${GENRE:-.build/release/genre}
GENRE=$(realpath "$GENRE")
work=$(mktemp -d "${TMPDIR:-/tmp}/genrekit-partitioned-XXXXXX")
trap 'rm -rf "$work"' EXIT
passed=0; failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; [ -f "$work/log" ] && sed 's/^/     /' "$work/log" | tail -8; }
one_line_error() {  # one_line_error PATTERN: the log holds exactly one error line, matching PATTERN
  grep -q "^error: .*$1" "$work/log" && [ "$(grep -c '^error:' "$work/log")" -eq 1 ]
}

# 80 clips (+ 2): a part holds about 20, so a part killed after 3 cached clips is far from done.
"$GENRE" synth "$work/corpus" --clips-per-genre 8 --seconds 3 --seed 11 >/dev/null
printf 'not audio' >"$work/corpus/rock/broken.wav"
cp "$work/corpus/jazz/jazz.00001."* "$work/corpus/blues/"   # an exact duplicate across classes
cat >"$work/pipeline.toml" <<'TOML'
name = "partitioned"
[audio]
clip_seconds = 3.0
resampler = "sinc-best"
[shards]
clips_per_shard = 8
TOML
pre() { "$GENRE" preprocess --corpus "$work/corpus" --pipeline "$work/pipeline.toml" --jobs 1 "$@"; }
pre --out "$work/single" --part none >"$work/log" 2>&1 && ok "single run" || bad "single run"

same_shards() {  # same_shards DIR: every shard equals the single run's (h5diff), and split.tsv too
  local f
  [ "$(cd "$1" && ls *.h5 | sort)" = "$(cd "$work/single" && ls *.h5 | sort)" ] || return 1
  for f in "$work/single"/*.h5; do h5diff -q "$f" "$1/$(basename "$f")" >/dev/null 2>&1 || return 1; done
  cmp -s "$work/single/split.tsv" "$1/split.tsv"
}

# Four processes at once: two parts from Slurm's variables, one from Kubernetes', one from --part.
out="$work/parts"
SLURM_ARRAY_TASK_ID=1 SLURM_ARRAY_TASK_COUNT=4 SLURM_ARRAY_TASK_MIN=1 pre --out "$out" >"$work/p1.log" 2>&1 & p1=$!
SLURM_ARRAY_TASK_ID=2 SLURM_ARRAY_TASK_COUNT=4 SLURM_ARRAY_TASK_MIN=1 pre --out "$out" >"$work/p2.log" 2>&1 & p2=$!
JOB_COMPLETION_INDEX=2 JOB_COMPLETIONS=4 pre --out "$out" >"$work/p3.log" 2>&1 & p3=$!
pre --out "$out" --part 4/4 >"$work/p4.log" 2>&1 & p4=$!
status=0
for p in $p1 $p2 $p3 $p4; do wait "$p" || status=1; done
cat "$work"/p?.log >"$work/log"
[ "$status" -eq 0 ] && ok "four parts ran at once" || bad "a part failed"
n=$(ls "$out"/parts/part-*-of-4/part.json 2>/dev/null | wc -l)
[ "$n" -eq 4 ] && ok "each part wrote its record" || bad "$n part records, expected 4"
[ -z "$(ls "$out"/*.h5 2>/dev/null)" ] && ok "parts write no shard" || bad "a part wrote shards"

# A part killed mid-run, then run again: it reuses what it had finished.
rm -rf "$out/parts/part-3-of-4"
# The tool itself in the background (not a shell function: the signal must reach genre, not a subshell).
"$GENRE" preprocess --corpus "$work/corpus" --pipeline "$work/pipeline.toml" --jobs 1 --out "$out" --part 3/4 \
  >"$work/log" 2>&1 & pid=$!
# Killed once 3 of its clips are cached (an observable event, polled; the bound of 10 minutes only turns a hang into
# a failure). The part holds a quarter of the corpus: the rest of it takes far longer than one polling interval.
cached=no
for i in $(seq 1 30000); do
  [ "$(ls "$out/parts/part-3-of-4/cache" 2>/dev/null | grep -c '\.clip$')" -ge 3 ] && { cached=yes; break; }
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.02
done
kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
n=$(ls "$out/parts/part-3-of-4/cache" 2>/dev/null | grep -c '\.clip$')
[ "$cached" = yes ] && [ ! -f "$out/parts/part-3-of-4/part.json" ] && ok "part 3/4 killed mid-run ($n clips cached)" \
  || bad "part 3/4 was not killed mid-run (cached 3 clips: $cached; finished: $([ -f "$out/parts/part-3-of-4/part.json" ] && echo yes || echo no))"
"$GENRE" merge "$out" >"$work/log" 2>&1
[ $? -ne 0 ] && one_line_error "part 3/4 missing or incomplete" && ok "merge refuses while a part is incomplete" \
  || bad "merge did not refuse an incomplete part"
pre --out "$out" --part 3/4 >"$work/log" 2>&1 && grep -q "from the part's cache" "$work/log" \
  && ok "the killed part, run again, reuses its finished clips" || bad "the killed part's rerun"

"$GENRE" merge "$out" >"$work/log" 2>&1 && ok "merge" || bad "merge"
same_shards "$out" && ok "merged shards equal the single run's, tensor for tensor" || bad "merged shards differ"
"$GENRE" verify "$out" >"$work/log" 2>&1 && ok "genre verify accepts the merged shards" || bad "verify"
grep -q '"duplicates" : 1' "$out/report.json" && grep -q 'rock/broken.wav' "$out/report.json" \
  && ok "the merged report names the duplicate and the broken file" || bad "merged report.json"
"$GENRE" merge "$out" >"$work/log" 2>&1 && same_shards "$out" && ok "merge run again: the same shards" || bad "second merge"

# Refusals.
mv "$out/parts/part-2-of-4" "$work/aside"
"$GENRE" merge "$out" >"$work/log" 2>&1
[ $? -ne 0 ] && one_line_error "part 2/4 missing" && ok "merge refuses a missing part" || bad "missing part"
sed 's/clip_seconds = 3.0/clip_seconds = 2.0/' "$work/pipeline.toml" >"$work/other.toml"
"$GENRE" preprocess --corpus "$work/corpus" --pipeline "$work/other.toml" --out "$out" --part 2/4 >/dev/null 2>&1
"$GENRE" merge "$out" >"$work/log" 2>&1
[ $? -ne 0 ] && one_line_error "part-2-of-4/part.json: part 2/4 was made with other parameters.*audio.clip_seconds" \
  && ok "merge refuses a part of other parameters, naming the key" || bad "other parameters"
pre --out "$work/x" --part 5/4 >"$work/log" 2>&1
[ $? -ne 0 ] && one_line_error "5/4" && ok "--part 5/4 is refused" || bad "--part 5/4"
SLURM_ARRAY_TASK_ID=3 pre --out "$work/x" >"$work/log" 2>&1
[ $? -ne 0 ] && one_line_error "SLURM_ARRAY_TASK_COUNT" && ok "an incomplete Slurm environment is refused" || bad "Slurm environment"

# The Kubernetes manifests, run as their pods would: each index's command and environment taken from the YAML,
# /data mapped to a local folder, then the merge Job's command; the result must equal a single run.
top=$(cd "$(dirname "$0")/.." && pwd)
# PyYAML comes with `make setup` (scripts/setup.sh); nothing is installed here (without it the check below fails
# with "No module named 'yaml'").
mkdir -p "$work/data/pipelines"
ln -s "$work/corpus" "$work/data/corpus"
cp "$top/pipelines/gtzan.toml" "$work/data/pipelines/"
if python3 - "$top/pipelines/kubernetes" >"$work/k8s.sh" 2>"$work/log" <<'PY'
import shlex, sys, yaml
folder = sys.argv[1]
job = yaml.safe_load(open(f"{folder}/preprocess-job.yaml"))
merge = yaml.safe_load(open(f"{folder}/merge-job.yaml"))
spec = job["spec"]
assert spec["completionMode"] == "Indexed", "the preprocess Job must be an Indexed Job"
n = spec["completions"]
pod = spec["template"]["spec"]["containers"][0]
env = {e["name"]: e["value"] for e in pod.get("env", [])}
assert env.get("JOB_COMPLETIONS") == str(n), "JOB_COMPLETIONS must equal the Job's completions"
merge_command = merge["spec"]["template"]["spec"]["containers"][0]["command"]
assert f"--parts={n}" in merge_command, "the merge Job must name the same number of parts"
for i in range(n):
    assignments = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    print(f"JOB_COMPLETION_INDEX={i} {assignments} {' '.join(shlex.quote(a) for a in pod['command'])} >/dev/null")
print(" ".join(shlex.quote(a) for a in merge_command) + " >/dev/null")
PY
then
  ok "the Kubernetes manifests are consistent (Indexed, JOB_COMPLETIONS = completions = merge --parts)"
  sed -i -e "s#/data#$work/data#g" -e "s#^\(JOB_COMPLETION_INDEX=[0-9]* JOB_COMPLETIONS=[0-9]*\) genre #\1 $GENRE #" \
    -e "s#^genre #$GENRE #" "$work/k8s.sh"
  "$GENRE" preprocess --corpus "$work/corpus" --pipeline "$top/pipelines/gtzan.toml" --out "$work/k8s-single" \
    --part none >/dev/null 2>&1
  if bash -e "$work/k8s.sh" >"$work/log" 2>&1; then
    same=yes
    for f in "$work/k8s-single"/*.h5; do h5diff -q "$f" "$work/data/out/$(basename "$f")" >/dev/null 2>&1 || same=no; done
    [ -n "$(ls "$work/k8s-single"/*.h5 2>/dev/null)" ] || same=no
    [ "$same" = yes ] && ok "the manifests' commands, run as the pods would, equal a single run" \
      || bad "the manifests' commands give other shards than a single run"
  else
    bad "the manifests' commands failed"
  fi
else
  bad "the Kubernetes manifests"
fi

echo "partitioned: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
