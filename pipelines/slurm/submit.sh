#!/usr/bin/env bash
# Submits a partitioned GenreKit preprocess to Slurm: an array job of N parts, then the merge, which starts only
# when every part has succeeded (--dependency=afterok). Prints the two job ids.
#
#   pipelines/slurm/submit.sh CORPUS PIPELINE OUT N [sbatch options for both jobs, e.g. --partition=cpu]
#
# OUT must be on a filesystem every node sees. GENRE names the tool (default: genre on PATH; give an absolute
# path when it is not installed on the nodes' PATH).
set -euo pipefail
if [ $# -lt 4 ]; then
  echo "usage: $0 CORPUS PIPELINE OUT N [sbatch options]" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
corpus=$(realpath "$1"); pipeline=$(realpath "$2"); out=$(realpath -m "$3"); parts=$4; shift 4
case $parts in ''|*[!0-9]*|0) echo "submit.sh: N must be a whole number >= 1, got '$parts'" >&2; exit 2 ;; esac
mkdir -p "$out/logs"
export GENREKIT_CORPUS=$corpus GENREKIT_PIPELINE=$pipeline GENREKIT_OUT=$out GENREKIT_PARTS=$parts
export GENRE=${GENRE:-genre}
array=$(sbatch --parsable --array="1-$parts" --chdir="$out/logs" "$@" "$here/preprocess.sbatch")
array=${array%%;*}
merge=$(sbatch --parsable --dependency="afterok:$array" --kill-on-invalid-dep=yes --chdir="$out/logs" "$@" "$here/merge.sbatch")
merge=${merge%%;*}
echo "submitted: preprocess array job $array (parts 1-$parts), merge job $merge (after all of them succeed)"
echo "logs: $out/logs; shards: $out once job $merge has finished (squeue -j $array,$merge)"
