#!/usr/bin/env bash
# A real Slurm run of a sharded sweep on a single-host cluster: munged, slurmctld and slurmd on
# localhost, every file (key, config, state, spool, logs) in a temporary directory, all stopped and
# removed at the end. It submits the demo sweep as `arcsim sweep --slurm --submit` does (prepare ->
# a job array of 4 shards -> merge, chained with afterok), waits with a bounded timeout, and
# compares the merged results.csv and results.json with an unsharded run byte for byte.
#
#   tests/slurm/cluster_test.sh [ARCSIM] [SPEC]     (defaults: build/arcsim experiments/default.json)
#
# Exit status: 0 passed, 1 failed, 77 skipped: the daemons cannot start here (not installed, not
# root, no munge); the reason is printed on a line starting "slurm test: SKIPPED".
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ARCSIM=$(realpath "${1:-$ROOT/build/arcsim}")
SPEC=${2:-experiments/default.json}
SHARDS=4
WAIT_S=${ARCSIM_SLURM_WAIT_S:-150}   # for the whole job chain
T0=$(date +%s)

say() { echo "slurm test: $*"; }
skip() { say "SKIPPED: $*"; exit 77; }
fail() { say "FAILED: $*"; dump_logs; exit 1; }

for c in munged mungekey munge unmunge slurmctld slurmd sbatch squeue scontrol sinfo timeout; do
  command -v "$c" >/dev/null || skip "$c not found (Debian packages slurm-wlm and munge; ./run test installs them)"
done
[[ $(id -u) -eq 0 ]] || skip "needs root to run slurmd and munged on this host"
[[ -x $ARCSIM ]] || fail "$ARCSIM not built"

T=$(mktemp -d /tmp/arcsim-slurm.XXXXXX)
chmod 700 "$T"
PIDS=()
cleanup() {
  local i
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do kill "${PIDS[i]}" 2>/dev/null; done
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do timeout 10 tail --pid="${PIDS[i]}" -f /dev/null 2>/dev/null; done
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do kill -9 "${PIDS[i]}" 2>/dev/null; done
  [[ -n ${ARCSIM_SLURM_KEEP:-} ]] && say "kept $T" || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' TERM INT  # an outer timeout still stops the daemons
dump_logs() {
  local f
  for f in "$T"/*.log "$T"/out/slurm/logs/*; do
    [[ -f $f ]] && { echo "--- $f (last 15 lines)"; tail -n 15 "$f"; }
  done
}
# wait_for SECONDS COMMAND...: polls until COMMAND succeeds.
wait_for() {
  local deadline=$(($(date +%s) + $1)); shift
  until "$@" >/dev/null 2>&1; do (($(date +%s) < deadline)) || return 1; sleep 0.5; done
}
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# ---- munge: its own key and socket.
mkdir -p "$T/munge" && chmod 700 "$T/munge"
mungekey --create --keyfile="$T/munge/munge.key" >/dev/null 2>&1 || skip "mungekey cannot create a key"
SOCK=$T/munge/munge.socket
munged --foreground --force --key-file="$T/munge/munge.key" --socket="$SOCK" --pid-file="$T/munge/munged.pid" \
  --seed-file="$T/munge/munged.seed" --log-file="$T/munged.log" >/dev/null 2>&1 &
PIDS+=($!)
wait_for 10 bash -c "munge -n -S '$SOCK' | unmunge -S '$SOCK'" ||
  skip "munged does not start here: $(tail -n 1 "$T/munged.log" 2>/dev/null)"

# ---- slurmctld + one slurmd on localhost.
HOST=$(hostname -s)
CPUS=$(nproc)
mkdir -p "$T/state" "$T/spool"
cat > "$T/slurm.conf" <<CONF
ClusterName=arcsimtest
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$SOCK
CredType=cred/munge
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$T/jobcomp.txt
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/builtin
SchedulerParameters=kill_invalid_depend
ReturnToService=2
MinJobAge=600
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=1000 State=UNKNOWN
PartitionName=arcsimtest Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$T/slurm.conf
slurmctld -D -i -f "$SLURM_CONF" >/dev/null 2>&1 &
PIDS+=($!)
wait_for 20 bash -c "scontrol ping | grep -q UP" ||
  skip "slurmctld does not start here: $(grep -i error "$T/slurmctld.log" 2>/dev/null | tail -n 1)"
slurmd -D -f "$SLURM_CONF" -N "$HOST" >/dev/null 2>&1 &
PIDS+=($!)
wait_for 30 bash -c "sinfo -h -N -o %T | grep -qx idle" ||
  skip "slurmd does not start here: $(grep -i error "$T/slurmd.log" 2>/dev/null | tail -n 1)"
say "cluster up in $(($(date +%s) - T0)) s: $(sinfo -h -N -o '%N %T %c CPUs'), Slurm $(sinfo -V | cut -d' ' -f2)"

# ---- The reference: the same sweep, unsharded, on this host.
cd "$ROOT"
"$ARCSIM" sweep "$SPEC" --out "$T/whole" --quiet >"$T/whole.log" 2>&1 || fail "unsharded sweep failed: $(tail -n 1 "$T/whole.log")"

# ---- The sharded run through Slurm, exactly as a user submits it.
SUBMIT=$("$ARCSIM" sweep "$SPEC" --out "$T/out" --slurm --shards "$SHARDS" --cpus-per-task 1 --time 10 --submit 2>&1) ||
  fail "arcsim sweep --slurm --submit: $SUBMIT"
echo "$SUBMIT" | sed 's/^/  /'
read -r P A M < <(echo "$SUBMIT" | sed -n 's/^submitted: prepare \([0-9]*\), shards \([0-9]*\) .*, merge \([0-9]*\) .*/\1 \2 \3/p')
[[ -n ${M:-} ]] || fail "no job ids in the output of --submit"

state() { scontrol show job -o "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | head -n 1 | cut -d= -f2; }
deadline=$(($(date +%s) + WAIT_S))
while :; do
  s=$(state "$M")
  case "$s" in COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY | DEADLINE) break ;; esac
  (($(date +%s) < deadline)) || { scancel "$P" "$A" "$M" 2>/dev/null; fail "the job chain did not end within $WAIT_S s (merge job $M: ${s:-unknown})"; }
  sleep 1
done

echo "  jobs:"
for j in "$P" "$A" "$M"; do
  scontrol show job -o "$j" | sort -t= -k2 -n | while read -r line; do
    echo "$line" | tr ' ' '\n' | grep -E '^(JobId|ArrayJobId|ArrayTaskId|JobName|JobState|ExitCode|RunTime)=' | paste -sd' ' |
      sed 's/^/    /'
  done
done
[[ $s == COMPLETED ]] || fail "merge job $M ended $s"
ok=1
for f in results.csv results.json; do
  if cmp "$T/out/$f" "$T/whole/$f"; then say "cmp $f: merged (prepare + $SHARDS-task array + merge) == unsharded, $(wc -c <"$T/out/$f") bytes"; else ok=0; fi
done
((ok)) || fail "merged files differ from the unsharded run"
say "PASSED in $(($(date +%s) - T0)) s"
