#!/usr/bin/env bash
# `make test-slurm`: partitioned preprocessing on a real Slurm cluster. Starts a single-node cluster on this
# machine (scripts/slurm-cluster.sh: Debian's slurm-wlm and munge, installed when missing), submits the shipped
# job files with pipelines/slurm/submit.sh (a 4-task array job, then the merge with --dependency=afterok), waits
# for both, checks every task and the merge completed, compares the merged shards with a single-process run of the
# same corpus (h5diff, tensor for tensor); runs one task again alone and the merge after it, as a user does after a
# failure; and stops the daemons it started. Needs root (CI runs as root).
# Prints "slurm: N passed, M failed".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
GENRE=$(realpath "${GENRE:-$top/.build/release/genre}")
work=$(mktemp -d "${TMPDIR:-/tmp}/genrekit-slurm-XXXXXX")
chmod 755 "$work"
cleanup() { "$here/slurm-cluster.sh" stop "$work/cluster" >/dev/null 2>&1; rm -rf "$work"; }
trap cleanup EXIT
passed=0; failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; [ -f "$work/log" ] && sed 's/^/     /' "$work/log" | tail -12; }

if [ "$(id -u)" -ne 0 ]; then
  echo "slurm: needs root to start the Slurm daemons (CI runs as root)"
  echo "slurm: 0 passed, 1 failed"
  exit 1
fi

"$GENRE" synth "$work/corpus" --clips-per-genre 4 --seconds 3 --seed 21 >/dev/null
printf 'not audio' >"$work/corpus/pop/broken.au"
cat >"$work/pipeline.toml" <<'TOML'
name = "slurm"
[audio]
clip_seconds = 3.0
[shards]
clips_per_shard = 8
TOML
"$GENRE" preprocess --corpus "$work/corpus" --pipeline "$work/pipeline.toml" --out "$work/single" --part none \
  >"$work/log" 2>&1 && ok "single-process run" || bad "single-process run"

if "$here/slurm-cluster.sh" start "$work/cluster" >"$work/log" 2>&1; then
  ok "single-node Slurm cluster up (munged, slurmctld, slurmd)"
else
  bad "the Slurm cluster did not start"
  echo "slurm: $passed passed, $failed failed"
  exit 1
fi
# shellcheck disable=SC1091
source "$work/cluster/env"

GENRE="$GENRE" "$top/pipelines/slurm/submit.sh" "$work/corpus" "$work/pipeline.toml" "$work/out" 4 \
  --cpus-per-task=1 --mem-per-cpu=500M --time=00:10:00 >"$work/log" 2>&1
ids=$(sed -n 's/^submitted: preprocess array job \([0-9]*\) .*merge job \([0-9]*\) .*/\1 \2/p' "$work/log")
read -r array merge <<<"$ids"
[ -n "${merge:-}" ] && ok "submit.sh submitted the array job ($array) and the merge ($merge)" || bad "submit.sh"

gone() { [ -z "$(squeue -h -j "$1" -o %i 2>/dev/null)" ]; }
for i in $(seq 1 300); do
  gone "$array" && gone "$merge" && break
  sleep 1
done
gone "$array" && gone "$merge" && ok "both jobs left the queue" || bad "the jobs are still queued after 300 s"
completed() {  # JOBID COUNT: COUNT records, each COMPLETED with exit code 0:0
  local info
  info=$(scontrol -o show job "$1" 2>/dev/null) || return 1
  [ "$(grep -c 'JobState=COMPLETED.*ExitCode=0:0' <<<"$info")" -eq "$2" ]
}
cat "$work/out/logs"/*.out >"$work/log" 2>/dev/null
completed "$array" 4 && ok "all 4 array tasks completed" || bad "an array task did not complete"
completed "$merge" 1 && ok "the merge job ran after them and completed" || bad "the merge job did not complete"
n=$(ls "$work/out"/parts/part-*-of-4/part.json 2>/dev/null | wc -l)
[ "$n" -eq 4 ] && ok "each task wrote its part (parts/part-K-of-4)" || bad "$n parts written, expected 4"

same=yes
[ "$(cd "$work/out" 2>/dev/null && ls *.h5 | sort)" = "$(cd "$work/single" && ls *.h5 | sort)" ] || same=no
for f in "$work/single"/*.h5; do
  h5diff -q "$f" "$work/out/$(basename "$f")" >/dev/null 2>&1 || same=no
done
cmp -s "$work/single/split.tsv" "$work/out/split.tsv" || same=no
[ "$same" = yes ] && ok "the merged shards equal the single-process run's, tensor for tensor" \
  || bad "the merged shards differ from the single-process run's"

# One task of the array run again alone (as after a failure), then the merge after it: the part reuses its clips.
export GENREKIT_CORPUS="$work/corpus" GENREKIT_PIPELINE="$work/pipeline.toml" GENREKIT_OUT="$work/out" GENREKIT_PARTS=4
rerun=$(GENRE="$GENRE" sbatch --parsable --array=3 --chdir="$work/out/logs" --cpus-per-task=1 --mem-per-cpu=500M \
  --output=rerun-%A_%a.out "$top/pipelines/slurm/preprocess.sbatch" 2>"$work/log")
rerun=${rerun%%;*}
remerge=$(GENRE="$GENRE" sbatch --parsable --dependency="afterok:$rerun" --chdir="$work/out/logs" --cpus-per-task=1 \
  --mem-per-cpu=500M --output=remerge-%j.out "$top/pipelines/slurm/merge.sbatch" 2>>"$work/log")
remerge=${remerge%%;*}
for i in $(seq 1 120); do
  gone "$rerun" && gone "$remerge" && break
  sleep 1
done
cat "$work/out/logs"/rerun-*.out >"$work/log" 2>/dev/null
completed "$rerun" 1 && grep -q "part 3/4: .*from the part's cache" "$work/log" \
  && ok "task 3 run again alone is part 3/4 and reuses its clips" || bad "the rerun of task 3"
cat "$work/out/logs"/remerge-*.out >"$work/log" 2>/dev/null
same=yes
for f in "$work/single"/*.h5; do h5diff -q "$f" "$work/out/$(basename "$f")" >/dev/null 2>&1 || same=no; done
completed "$remerge" 1 && [ "$same" = yes ] && ok "the merge after it gives the same shards" || bad "the merge after the rerun"

if "$here/slurm-cluster.sh" stop "$work/cluster" >"$work/log" 2>&1; then
  ok "the daemons it started are stopped"
else
  bad "stopping the daemons"
fi

echo "slurm: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
