#!/usr/bin/env bash
# Self-test of scripts/slurm-cluster.sh: starts a throwaway cluster, runs a 4-task array job and an
# afterok-dependent job, checks what they wrote, and always stops the cluster. Needs root.
# Prints `slurm-selftest: N passed, M failed`; exits non-zero on any failure.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cluster="$here/slurm-cluster.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/slurm-selftest.XXXXXX")
out="$work/out"
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok: $*"; }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }
check() { # DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}

finish() {
  local rc=$?
  trap - EXIT INT TERM
  local t=$SECONDS
  if "$cluster" stop "$work/cluster"; then ok "cluster stop ($((SECONDS - t))s)"; else bad "cluster stop exited non-zero"; fi
  # Nothing that this cluster started may be left running.
  local left p
  left=$(ps -eo pid=,args= | grep -F "$work/" | grep -v grep || true)
  for p in $pids; do [ -d "/proc/$p" ] && left="$left pid $p ($(cat "/proc/$p/comm" 2>/dev/null))"; done
  [ "$(count_stepd)" -le "$stepd_before" ] || left="$left slurmstepd"
  [ -z "$munge_dir" ] || [ ! -e "$munge_dir" ] || left="$left (and $munge_dir still exists)"
  if [ -z "$left" ]; then ok "stop left no process behind"; else bad "processes left after stop: $left"; fi
  echo "slurm-selftest: $passed passed, $failed failed"
  if [ "$failed" -eq 0 ] && [ "$rc" -eq 0 ]; then
    rm -rf "$work"
    exit 0
  fi
  echo "slurm-selftest: kept $work for inspection" >&2
  exit 1
}
pids="" munge_dir=""
count_stepd() { ps -eo comm= | grep -c '^slurmstepd' || true; }
stepd_before=$(count_stepd)
trap finish EXIT
trap 'exit 130' INT TERM

wait_gone() { # JOBID SECONDS: poll squeue until the job (all its array tasks) has left the queue
  local i
  for ((i = 0; i < $2 * 2; i++)); do
    [ -z "$(squeue -h -j "$1" -o %i 2>/dev/null)" ] && return 0
    sleep 0.5
  done
  return 1
}

all_completed() { # JOBID: every record of `scontrol show job` is COMPLETED with exit code 0:0
  local info
  info=$(scontrol -o show job "$1" 2>/dev/null) || return 1
  [ -n "$info" ] || return 1
  ! grep -v -q 'JobState=COMPLETED' <<<"$info" && ! grep -v -q 'ExitCode=0:0' <<<"$info"
}

t0=$SECONDS
if ! "$cluster" start "$work/cluster"; then
  bad "cluster start"
  exit 1
fi
ok "cluster start ($((SECONDS - t0))s)"
pids=$(cat "$work"/cluster/run/*.pid 2>/dev/null | tr '\n' ' ')
munge_dir=$(cat "$work/cluster/run/munge-dir" 2>/dev/null || true)
check "three daemons recorded (pids: $pids)" test "$(wc -w <<<"$pids")" -eq 3
# shellcheck disable=SC1091
source "$work/cluster/env"
check "sinfo shows the node idle" test "$(sinfo -h -N -o %T | head -n 1)" = idle

mkdir -p "$out"
cat >"$work/task.sh" <<'EOF'
#!/bin/bash
set -eu
: "${SLURM_ARRAY_TASK_COUNT:?not set}" "${SLURM_ARRAY_TASK_MIN:?not set}" "${SLURM_ARRAY_TASK_MAX:?not set}"
echo "task=$SLURM_ARRAY_TASK_ID count=$SLURM_ARRAY_TASK_COUNT min=$SLURM_ARRAY_TASK_MIN max=$SLURM_ARRAY_TASK_MAX" \
  >"part-$SLURM_ARRAY_TASK_ID.txt"
EOF
chmod +x "$work/task.sh"

array=$(sbatch --parsable --array=1-4 --chdir="$out" --output="$out/array-%A_%a.log" \
  --job-name=selftest-array "$work/task.sh") && array=${array%%;*}
check "sbatch array job (id ${array:-none})" test -n "$array"
dep=$(sbatch --parsable --dependency="afterok:$array" --chdir="$out" --output="$out/dep-%j.log" \
  --job-name=selftest-dep --wrap='ls part-*.txt > listing.txt && cat part-*.txt >> listing.txt') && dep=${dep%%;*}
check "sbatch dependent job (id ${dep:-none})" test -n "$dep"

check "array job leaves the queue within 60s" wait_gone "$array" 60
check "dependent job leaves the queue within 60s" wait_gone "$dep" 60
check "all 4 array tasks COMPLETED, exit 0" all_completed "$array"
check "array job has 4 task records" test "$(scontrol -o show job "$array" 2>/dev/null | grep -c 'ArrayTaskId=')" -eq 4
check "dependent job COMPLETED, exit 0" all_completed "$dep"

for i in 1 2 3 4; do
  check "part-$i.txt has the task's array variables" \
    grep -qx "task=$i count=4 min=1 max=4" "$out/part-$i.txt"
done
expected=$(printf 'part-%s.txt\n' 1 2 3 4; for i in 1 2 3 4; do echo "task=$i count=4 min=1 max=4"; done)
check "dependent job listed what the array wrote" test "$(cat "$out/listing.txt" 2>/dev/null)" = "$expected"
