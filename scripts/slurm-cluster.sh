#!/usr/bin/env bash
# Starts and stops a throwaway single-node Slurm cluster (Debian's slurm-wlm + munge) on this machine,
# for tests. Needs root. Everything it creates lives in DIR; daemons talk over loopback only.
#
#   scripts/slurm-cluster.sh start DIR   # install slurm-wlm/munge if missing, write DIR, start munged,
#                                        # slurmctld and slurmd, wait until the node is idle
#   scripts/slurm-cluster.sh stop DIR    # stop exactly the daemons started in DIR (by their pid files)
#
# After start, `source DIR/env` sets SLURM_CONF (the munge socket is named in slurm.conf's AuthInfo),
# so sbatch, squeue, scontrol and sinfo talk to this cluster.
# Optional environment: SLURM_CLUSTER_TIMEOUT (seconds to wait for an idle node, default 60),
# SLURM_CLUSTER_EXTRA_CONF (lines appended to slurm.conf).
set -euo pipefail

log() { echo "slurm-cluster: $*" >&2; }
die() { log "error: $*"; exit 1; }

usage() { echo "usage: $0 start|stop|status DIR" >&2; exit 2; }

[ $# -eq 2 ] || usage
cmd=$1
[ -n "$2" ] || usage
mkdir_p_abs() { mkdir -p "$1" && (cd "$1" && pwd -P); }

# Daemons whose pid files are kept in DIR/run, in start order.
DAEMONS=(munged slurmctld slurmd)

pid_of() { # NAME -> prints the live pid of that daemon as recorded in DIR, if it runs and is that program
  local f="$D/run/$1.pid" pid comm
  [ -s "$f" ] || return 1
  pid=$(tr -dc '0-9' <"$f")
  [ -n "$pid" ] || return 1
  comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
  [ "$comm" = "$1" ] || return 1 # a recycled pid is somebody else's process: leave it alone
  echo "$pid"
}

alive() { [ -d "/proc/$1" ] && [ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ]; }

stop_daemons() { # NAME...: TERM them all at once, wait up to 10 s, then KILL what is left
  local name pid i j left
  local -a names=() pids=()
  for name in "$@"; do
    if pid=$(pid_of "$name"); then
      kill -TERM "$pid" 2>/dev/null || true
      names+=("$name") pids+=("$pid")
    fi
  done
  for ((i = 0; i < 100; i++)); do
    left=0
    for ((j = 0; j < ${#pids[@]}; j++)); do alive "${pids[j]}" "${names[j]}" && left=1; done
    [ $left -eq 1 ] || break
    sleep 0.1
  done
  for ((j = 0; j < ${#pids[@]}; j++)); do
    if alive "${pids[j]}" "${names[j]}"; then
      log "${names[j]} (pid ${pids[j]}) ignored TERM for 10 s; sending KILL"
      kill -KILL "${pids[j]}" 2>/dev/null || true
      for ((i = 0; i < 20; i++)); do alive "${pids[j]}" "${names[j]}" || break; sleep 0.1; done
    fi
  done
  for name in "$@"; do rm -f "$D/run/$name.pid"; done
}

stop_all() {
  # Cancel this cluster's jobs first, so that no slurmstepd outlives slurmd.
  if pid_of slurmctld >/dev/null && pid_of slurmd >/dev/null && [ -f "$D/slurm.conf" ]; then
    if [ -n "$(SLURM_CONF=$D/slurm.conf timeout 10 squeue -h -o %i 2>/dev/null)" ]; then
      SLURM_CONF=$D/slurm.conf timeout 10 scancel --full --user=root 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do
        [ -z "$(SLURM_CONF=$D/slurm.conf timeout 5 squeue -h -o %i 2>/dev/null)" ] && break
        sleep 0.2
      done
    fi
  fi
  # All at once: each takes ~2 s to wind down, and none needs munged to do so.
  stop_daemons slurmd slurmctld munged
  remove_munge_dir
}

world_traversable() { # DIR: every folder from / down to DIR can be entered by everyone (munged insists)
  local p=$1 mode
  while :; do
    mode=$(stat -L -c %A "$p") || return 1
    case ${mode:9:1} in x | t) ;; *) return 1 ;; esac
    [ "$p" = / ] && return 0
    p=$(dirname "$p")
  done
}

remove_munge_dir() { # the munge folder outside DIR, if start had to make one
  local m
  m=$(cat "$D/run/munge-dir" 2>/dev/null) || return 0
  case $m in
  /run/slurm-cluster-munge.* | /tmp/slurm-cluster-munge.*) [ -d "$m" ] && rm -rf -- "$m" ;;
  esac
  rm -f "$D/run/munge-dir" "$D/munge"
}

show_logs() {
  local f
  for f in "$D"/log/*; do
    [ -f "$f" ] || continue
    echo "----- $f (last 40 lines) -----" >&2
    tail -n 40 "$f" >&2 || true
  done
}

port_in_use() { # PORT -> 0 if something listens on it (TCP)
  if command -v ss >/dev/null 2>&1; then
    [ -n "$(ss -Htln "sport = :$1" 2>/dev/null)" ]
  else
    local hex
    hex=$(printf ':%04X ' "$1")
    cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk '$4 == "0A"' | grep -q -- "$hex"
  fi
}

pick_ports() { # sets CTLD_PORT and SLURMD_PORT: the defaults if free, else a free pair above 20000
  local base
  for base in 6817 $(seq 20817 100 29817); do
    if ! port_in_use "$base" && ! port_in_use "$((base + 1))"; then
      CTLD_PORT=$base SLURMD_PORT=$((base + 1))
      return 0
    fi
  done
  die "no free pair of TCP ports for slurmctld/slurmd"
}

install_if_missing() {
  local need=0 p
  for p in slurmctld slurmd slurm-client munge; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need=1
  done
  for p in slurmctld slurmd sinfo sbatch munged; do
    command -v "$p" >/dev/null 2>&1 || [ -x "/usr/sbin/$p" ] || need=1
  done
  [ $need -eq 1 ] || return 0
  log "installing slurm-wlm and munge with apt-get"
  # Keep the packages' init scripts from starting system-wide daemons during the install.
  local made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 0755 /usr/sbin/policy-rc.d
    made_policy=1
  fi
  local rc=0
  {
    apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge
  } >"${TMPDIR:-/tmp}/slurm-cluster-apt.$$.log" 2>&1 || rc=$?
  [ $made_policy -eq 1 ] && rm -f /usr/sbin/policy-rc.d
  if [ $rc -ne 0 ]; then
    tail -n 30 "${TMPDIR:-/tmp}/slurm-cluster-apt.$$.log" >&2
    die "apt-get install slurm-wlm munge failed (exit $rc)"
  fi
  rm -f "${TMPDIR:-/tmp}/slurm-cluster-apt.$$.log"
}

write_conf() {
  local host=$1 cpus mem_mb
  cpus=$(nproc)
  mem_mb=$(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo)
  mem_mb=$((mem_mb * 9 / 10)) # a bit below the machine's, so slurmd never finds "low memory"
  [ "$mem_mb" -ge 1 ] || mem_mb=1
  cat >"$D/slurm.conf" <<EOF
# Throwaway single-node cluster written by scripts/slurm-cluster.sh; everything lives in $D.
ClusterName=genrekit-test
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
# Bind to the resolved (loopback) address rather than INADDR_ANY.
CommunicationParameters=NoInAddrAny,NoCtldInAddrAny
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$M/munge.socket
StateSaveLocation=$D/state
SlurmdSpoolDir=$D/spool/slurmd
SlurmctldPidFile=$D/run/slurmctld.pid
SlurmdPidFile=$D/run/slurmd.pid
SlurmctldLogFile=$D/log/slurmctld.log
SlurmdLogFile=$D/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
ReturnToService=2
SchedulerType=sched/backfill
# Schedule again as soon as a job ends (the defaults wait ~3 s between passes).
SchedulerParameters=sched_min_interval=0,batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MailProg=/bin/true
SlurmdParameters=config_overrides
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=300
KillWait=5
Waittime=0
NodeName=$host NodeAddr=127.0.0.1 NodeHostname=$host CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  if [ -n "${SLURM_CLUSTER_EXTRA_CONF:-}" ]; then
    printf '%s\n' "$SLURM_CLUSTER_EXTRA_CONF" >>"$D/slurm.conf"
  fi
}

wait_pidfile() { # NAME SECONDS: wait until the daemon's pid file names a live process of that name
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    pid_of "$1" >/dev/null && return 0
    sleep 0.1
  done
  return 1
}

fail_start() {
  log "error: $*"
  show_logs
  stop_all
  log "error: $* (logs above; the daemons that had started were stopped)"
  exit 1
}

start() {
  [ "$(id -u)" -eq 0 ] || die "start needs root (the daemons run as root and munge)"
  for n in "${DAEMONS[@]}"; do
    if pid_of "$n" >/dev/null; then die "$n is already running from $D; run '$0 stop $D' first"; fi
  done
  install_if_missing
  export PATH="$PATH:/usr/sbin:/sbin"
  id munge >/dev/null 2>&1 || die "no 'munge' user (the munge package should have created it)"

  local host
  host=$(hostname -s)
  [ -n "$host" ] || die "hostname -s is empty"

  # Fresh state every time: stale state from an earlier cluster in the same DIR must not matter.
  remove_munge_dir
  rm -rf "$D/state" "$D/spool" "$D/log" "$D/run" "$D/munge" "$D/env" "$D/slurm.conf"
  mkdir -p "$D/state" "$D/spool/slurmd" "$D/log" "$D/run"
  chmod 0755 "$D"
  # munged runs as the munge user and wants its socket folder, and every folder above it, enterable
  # by all (and not writable by others). Use DIR/munge when DIR allows that; else (e.g. DIR inside a
  # 0700 mktemp folder) a folder of its own in /run, linked from DIR/munge and removed by stop.
  local M="$D/munge"
  if ! world_traversable "$D"; then
    M=$(mktemp -d /run/slurm-cluster-munge.XXXXXX 2>/dev/null || mktemp -d /tmp/slurm-cluster-munge.XXXXXX)
    echo "$M" >"$D/run/munge-dir"
    ln -s "$M" "$D/munge"
  else
    mkdir "$M"
  fi
  chown munge:munge "$M"
  chmod 0755 "$M" # the key inside stays 0400
  : >"$M/munged.log"
  chown munge:munge "$M/munged.log"
  chmod 0600 "$M/munged.log"
  ln -s "$M/munged.log" "$D/log/munged.log"

  # Munge key: private to this cluster.
  local key="$M/munge.key"
  if command -v mungekey >/dev/null 2>&1; then
    mungekey -c -k "$key" >/dev/null 2>&1 || rm -f "$key"
  fi
  [ -s "$key" ] || dd if=/dev/urandom of="$key" bs=1024 count=1 status=none
  chown munge:munge "$key"
  chmod 0400 "$key"

  pick_ports
  write_conf "$host"
  cat >"$D/env" <<EOF
# source this file to use the test Slurm cluster in $D
export SLURM_CONF='$D/slurm.conf'
export SLURM_CLUSTER_DIR='$D'
export MUNGE_SOCKET='$M/munge.socket'
unset SLURM_CLUSTERS SLURM_JOBID SLURM_JOB_ID
EOF

  local t0=$SECONDS
  # munged: runs as the munge user, everything in DIR/munge. It daemonizes and writes its pid file.
  # (munged writes its pid file into its own folder; it is copied to DIR/run below.)
  if ! runuser -u munge -- /usr/sbin/munged \
    --socket="$M/munge.socket" --key-file="$key" --log-file="$M/munged.log" \
    --pid-file="$M/munged.pid" --seed-file="$M/munged.seed" \
    </dev/null >>"$D/log/munged.out" 2>&1; then
    fail_start "munged did not start"
  fi
  local i
  for ((i = 0; i < 100; i++)); do
    [ -s "$M/munged.pid" ] && [ -S "$M/munge.socket" ] && break
    sleep 0.1
  done
  [ -s "$M/munged.pid" ] && cp "$M/munged.pid" "$D/run/munged.pid"
  { pid_of munged >/dev/null && [ -S "$M/munge.socket" ]; } || fail_start "munged did not come up"
  if command -v munge >/dev/null 2>&1; then
    munge -n --socket="$M/munge.socket" | unmunge --socket="$M/munge.socket" >/dev/null 2>&1 ||
      fail_start "munged runs but does not encode/decode credentials"
  fi

  # slurmctld and slurmd as root; both daemonize and write their pid files into DIR/run.
  SLURM_CONF="$D/slurm.conf" slurmctld -i -f "$D/slurm.conf" </dev/null >>"$D/log/slurmctld.out" 2>&1 ||
    fail_start "slurmctld exited with an error"
  wait_pidfile slurmctld 10 || fail_start "slurmctld did not come up"
  SLURM_CONF="$D/slurm.conf" slurmd -f "$D/slurm.conf" -N "$host" </dev/null >>"$D/log/slurmd.out" 2>&1 ||
    fail_start "slurmd exited with an error"
  wait_pidfile slurmd 10 || fail_start "slurmd did not come up"

  local timeout=${SLURM_CLUSTER_TIMEOUT:-60} state=""
  while :; do
    state=$(SLURM_CONF="$D/slurm.conf" timeout 5 sinfo -h -N -n "$host" -o %T 2>/dev/null | head -n 1) || state=""
    [ "$state" = "idle" ] && break
    for n in "${DAEMONS[@]}"; do pid_of "$n" >/dev/null || fail_start "$n died while waiting for the node"; done
    [ $((SECONDS - t0)) -lt "$timeout" ] || fail_start "node $host not idle after ${timeout}s (state: '${state:-no answer}')"
    sleep 0.5
  done
  log "cluster up in $((SECONDS - t0))s: node $host idle, ports $CTLD_PORT/$SLURMD_PORT; source $D/env"
}

case $cmd in
start)
  D=$(mkdir_p_abs "$2")
  start
  ;;
stop)
  [ -d "$2" ] || { log "$2: no such folder; nothing to stop"; exit 0; }
  D=$(cd "$2" && pwd -P)
  stop_all
  ;;
status)
  [ -d "$2" ] || exit 1
  D=$(cd "$2" && pwd -P)
  rc=0
  for n in "${DAEMONS[@]}"; do
    if p=$(pid_of "$n"); then echo "$n: running (pid $p)"; else echo "$n: not running"; rc=1; fi
  done
  exit $rc
  ;;
*) usage ;;
esac
