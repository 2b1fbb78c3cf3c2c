#!/usr/bin/env bash
# Memory per registered user and per call in progress, Parley and Kamailio in the same run, with
# the shared harness's sipp scenarios (../shared/bench/kamailio/scenarios): no authentication,
# UDP on 127.0.0.1:$PORT (6100 by default; Kamailio also listens on PORT+1 and, for WebSocket,
# PORT+2; sipp uses PORT+10, +11 and +20), away from the ports of bench/sip/proxy-bench.sh (5070, 5071, 5081, 5100-5999).
#
#   bench/sip/memory-bench.sh                        # both servers, 10,000 users, 2,000 calls up at once
#   USERS=50000 CALLS=5000 bench/sip/memory-bench.sh
#   SERVERS=parley bench/sip/memory-bench.sh
#
# What is measured: the proportional set size (PSS, /proc/PID/smaps_rollup) of the server's
# processes (Kamailio: the main process and its children, whose shared memory is split between
# them; Parley: its one process and its threads), sampled
#   base  - 5 s after a first wave of USERS REGISTERs was answered (warm-up: JIT, heap growth);
#   reg   - 5 s after a second wave of USERS other users registered (each one binding, Expires 3600);
#   calls - CALLS calls set up at RATE/s and held (sipp -d), sampled once every call is answered,
#           while all are up.
# per user = (reg - base) / USERS; per call = (calls - reg) / CALLS. Node's heap grows in steps
# and keeps garbage until the next collection, so Parley's figures are upper bounds.
# Loopback only; every sipp run is bounded (-m, -timeout); processes are ended by PID.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
HARNESS="${HARNESS:-$ROOT/../shared/bench/kamailio}"
export PATH="$ROOT/node_modules/.bin:$PATH"
SCN="$HARNESS/scenarios"
: "${USERS:=10000}" "${CALLS:=2000}" "${RATE:=200}" "${SERVERS:=parley kamailio}" "${WORKERS:=auto}"
: "${WORK:=/tmp/parley-memory-bench}" "${PORT:=6100}"
RUN="$WORK/run-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$RUN"
HOLD_MS=$(( (CALLS / RATE + 30) * 1000 ))
"$HARNESS/gen_users.sh" "$USERS" user benchpass > "$RUN/users.csv"
"$HARNESS/gen_users.sh" "$USERS" userb benchpass > "$RUN/users-b.csv"
printf 'SEQUENTIAL\nuas1;[authentication username=uas1 password=benchpass];\n' > "$RUN/callee.csv"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

tree_pids() { local p; for p in "$@"; do [ -d "/proc/$p" ] || continue; echo "$p"; tree_pids $(ps -o pid= --ppid "$p" 2>/dev/null); done; }
pss_kb() { local kb=0 p v; for p in $(tree_pids "$@"); do v=$(awk '/^Pss:/{print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0); kb=$((kb + ${v:-0})); done; echo "$kb"; }
answers() { kill -0 "$root" 2>/dev/null && sipp 127.0.0.1:$PORT -sf "$SCN/options.xml" -i 127.0.0.1 -p $((PORT + 9)) -m 1 -nostdin -timeout 3s -timeout_error -recv_timeout 2000 >/dev/null 2>&1; }

measure() { # measure NAME ROOT_PID
  local name=$1 root=$2 base reg calls
  for _ in $(seq 1 100); do kill -0 "$root" 2>/dev/null || { echo "$name exited; see $RUN" >&2; return 1; }; answers && break; sleep 0.2; done
  answers || { echo "$name does not answer OPTIONS" >&2; return 1; }
  local wave
  for wave in users users-b; do
    sipp 127.0.0.1:$PORT -sf "$SCN/register.xml" -inf "$RUN/$wave.csv" -i 127.0.0.1 -p $((PORT + 10)) -m "$USERS" -r 2000 \
      -nostdin -timeout "$((USERS / 1000 + 60))s" -timeout_error >/dev/null 2>&1 || echo "$name: some REGISTERs of $wave failed" >&2
    sleep 5
    if [ "$wave" = users ]; then base=$(pss_kb "$root"); else reg=$(pss_kb "$root"); fi
  done
  sipp 127.0.0.1:$PORT -sf "$SCN/register.xml" -inf "$RUN/callee.csv" -i 127.0.0.1 -p $((PORT + 11)) -m 1 -nostdin -timeout 5s -timeout_error >/dev/null 2>&1 || { echo "$name: the callee could not register" >&2; return 1; }
  sipp -sf "$SCN/uas.xml" -i 127.0.0.1 -p $((PORT + 11)) -m "$CALLS" -nostdin -timeout "$((HOLD_MS / 1000 + CALLS / RATE + 60))s" >/dev/null 2>&1 &
  local uas=$!; PIDS+=("$uas"); sleep 0.3
  sipp 127.0.0.1:$PORT -sf "$SCN/uac.xml" -s uas1 -inf "$RUN/users.csv" -i 127.0.0.1 -p $((PORT + 20)) -m "$CALLS" -r "$RATE" -d "$HOLD_MS" \
    -nostdin -timeout "$((HOLD_MS / 1000 + CALLS / RATE + 60))s" -trace_stat -stf "$RUN/$name.uac.csv" -fd 1 >/dev/null 2>&1 &
  local uac=$!; PIDS+=("$uac")
  sleep $((CALLS / RATE + 5)); calls=$(pss_kb "$root")
  local up; up=$(awk -F';' 'NR==1{for(i=1;i<=NF;i++) if($i=="CurrentCall") c=i} END{print $c}' "$RUN/$name.uac.csv" 2>/dev/null || echo '?')
  kill "$uac" "$uas" 2>/dev/null || true; wait "$uac" "$uas" 2>/dev/null || true
  printf '%s base_kb=%s reg_kb=%s calls_kb=%s users=%s calls=%s calls_up_at_sample=%s per_user_bytes=%s per_call_bytes=%s\n' \
    "$name" "$base" "$reg" "$calls" "$USERS" "$CALLS" "$up" \
    "$(( (reg - base) * 1024 / USERS ))" "$(( (calls - reg) * 1024 / CALLS ))" | tee -a "$RUN/summary.txt"
}

for server in $SERVERS; do
  case $server in
    parley)
      (cd "$ROOT" && npx tsc -p tsconfig.build.json)
      node "$ROOT/dist/cli/main.js" serve --listen "udp:127.0.0.1:$PORT;noauth" --data-dir "$RUN/parley-data" \
        --log-level warn --workers "$WORKERS" > "$RUN/parley.log" 2>&1 &
      pid=$!; PIDS+=("$pid"); measure parley "$pid"; kill "$pid"; wait "$pid" 2>/dev/null || true ;;
    kamailio)
      kamailio -f "$HARNESS/kamailio.cfg" -A "SIP_PORT=$PORT" -A "AUTH_PORT=$((PORT + 1))" -A "WS_PORT=$((PORT + 2))" \
        -A "CTL_SOCKET=\"unix:$RUN/kamailio_ctl\"" -DD -E -Y "$RUN" -P "$RUN/kamailio.pid" -m 1024 -M 16 -n 2 -N 2 > "$RUN/kamailio.log" 2>&1 &
      pid=$!; PIDS+=("$pid"); measure kamailio "$pid"; kill "$pid"; wait "$pid" 2>/dev/null || true ;;
    *) echo "unknown server $server" >&2; exit 2 ;;
  esac
done
echo "results: $RUN/summary.txt" >&2
