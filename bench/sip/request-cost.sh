#!/usr/bin/env bash
# CPU per request at one fixed rate, Parley against Kamailio in the same run: the same sipp load
# (the shared harness's scenarios) at RATE per second for SECS seconds against each server in turn,
# after a warm-up at the same rate, and the CPU time each server used (every process and thread,
# from /proc/PID/task/*/schedstat) divided by the completed requests. Parley's time is also split
# by thread (SIP workers, binding writer, V8's helper threads, main). A steadier figure than
# proxy-bench.sh's highest passing rate on a shared machine: it does not depend on where a burst
# of losses falls, and the ratio is the work each server does per request.
#
#   bench/sip/request-cost.sh                                  # register, 4000/s for 10 s
#   BENCH=register_auth RATE=3000 bench/sip/request-cost.sh
#   BENCH=call RATE=600 bench/sip/request-cost.sh              # INVITE/180/200/ACK/BYE through the proxy
#   ONLY=parley NODE_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof" bench/sip/request-cost.sh
#   ONLY=parley PARLEY_CONFIG=/tmp/hep.json bench/sip/request-cost.sh   # Parley with a configuration file (e.g. {"hep":{"collectors":["udp:127.0.0.1:9060"]}})
#
# BENCH: register | register_auth | call | call_auth. A request is one sipp "call": one REGISTER
# (two with the 401 for register_auth), or one call (INVITE, ACK, BYE and their responses).
# Loopback only; ports PORT (5270) and PORT+1 for the server, PORT+31 (callee), PORT+100/101
# (caller), and Kamailio's WebSocket port PORT+2. Every sipp run is bounded by -m and -timeout;
# everything started here is stopped by its PID.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
HARNESS="${HARNESS:-$ROOT/../shared/bench/kamailio}"
SCN="$HARNESS/scenarios"
: "${BENCH:=register}" "${RATE:=4000}" "${SECS:=10}" "${PORT:=5270}" "${NODE_FLAGS:=}" "${BUILD:=1}" "${ONLY:=}"
: "${OUT:=/tmp/parley-request-cost/run-$(date +%Y%m%d-%H%M%S)}"
export PATH="$ROOT/node_modules/.bin:$PATH"
[ -d "$SCN" ] || { echo "request-cost: the shared harness's scenarios are missing at $SCN" >&2; exit 1; }
case $BENCH in
  register) SCEN=register.xml TPORT=$PORT ;;
  register_auth) SCEN=register_auth.xml TPORT=$((PORT + 1)) ;;
  call) SCEN=uac.xml TPORT=$PORT ;;
  call_auth) SCEN=uac_auth.xml TPORT=$((PORT + 1)) ;;
  *) echo "request-cost: BENCH must be register, register_auth, call or call_auth" >&2; exit 1 ;;
esac
UAS_PORT=$((PORT + 31)) WARM_PORT=$((PORT + 100)) UAC_PORT=$((PORT + 101))
for p in "$PORT" "$((PORT + 1))" "$((PORT + 2))" "$UAS_PORT" "$WARM_PORT" "$UAC_PORT"; do
  if ss -Hlnut "sport = :$p" 2>/dev/null | grep -q .; then echo "request-cost: port $p is in use" >&2; exit 1; fi
done
[ "$BUILD" = 1 ] && (cd "$ROOT" && npx tsc -p tsconfig.build.json)
mkdir -p "$OUT"
"$HARNESS/gen_users.sh" 10000 user benchpass > "$OUT/callers.csv"

SUT_PID="" UAS=""
stop_all() {
  [ -n "$UAS" ] && kill "$UAS" 2>/dev/null
  if [ -n "$SUT_PID" ] && kill -0 "$SUT_PID" 2>/dev/null; then
    kill -TERM "$SUT_PID"
    for _ in $(seq 1 100); do kill -0 "$SUT_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$SUT_PID" 2>/dev/null && kill -KILL "$SUT_PID"
  fi
  wait 2>/dev/null || true
  SUT_PID="" UAS=""
}
trap stop_all EXIT

answers() { sipp "127.0.0.1:$PORT" -sf "$SCN/options.xml" -i 127.0.0.1 -m 1 -nostdin -timeout 3s -timeout_error -recv_timeout 2000 >/dev/null 2>&1; }

start_parley() {
  {
    for i in $(seq 1 10000); do printf 'user%06d@127.0.0.1,benchpass\n' "$i"; done
    printf 'uas1@127.0.0.1,benchpass\n'
  } > "$OUT/users.csv"
  node "$ROOT/dist/cli/main.js" user import "$OUT/users.csv" --data-dir "$OUT/parley-data" >/dev/null
  # shellcheck disable=SC2086
  node $NODE_FLAGS "$ROOT/dist/cli/main.js" serve --listen "udp:127.0.0.1:$PORT;noauth" "udp:127.0.0.1:$((PORT + 1))" \
    --data-dir "$OUT/parley-data" --log-level warn ${PARLEY_CONFIG:+--config "$PARLEY_CONFIG"} > "$OUT/parley.log" 2>&1 &
  SUT_PID=$!
}

start_kamailio() {
  kamailio -f "$HARNESS/kamailio.cfg" -DD -E -Y "$OUT" -P "$OUT/kamailio.pid" -m 1024 -M 16 -n 2 -N 2 \
    -A "SIP_PORT=$PORT" -A "AUTH_PORT=$((PORT + 1))" -A "WS_PORT=$((PORT + 2))" -A "CTL_SOCKET=\"unix:$OUT/kamailio_ctl\"" \
    > "$OUT/kamailio.log" 2>&1 &
  SUT_PID=$!
}

threads() { # tid name cpu-ns, every thread of the server's process tree
  local p t
  for p in $SUT_PID $(pgrep -P "$SUT_PID" || true); do
    for t in /proc/"$p"/task/*; do printf '%s %s %s\n' "${t##*/}" "$(tr ' ' _ < "$t/comm" 2>/dev/null || echo gone)" "$(cut -d' ' -f1 "$t/schedstat" 2>/dev/null || echo 0)"; done
  done
}

# measure NAME: one server, started by start_NAME; prints "NAME ok failed retrans wall cpu_ns" and the thread split
measure() {
  local name=$1
  "start_$name"
  for _ in $(seq 1 50); do answers && break; kill -0 "$SUT_PID" 2>/dev/null || break; sleep 0.2; done
  answers || { echo "request-cost: $name does not answer on 127.0.0.1:$PORT (log in $OUT)" >&2; exit 1; }
  local calls=$((RATE * SECS)) uas_args=()
  if [[ $BENCH == call* ]]; then
    printf 'SEQUENTIAL\nuas1;[authentication username=uas1 password=benchpass];\n' > "$OUT/callee.csv"
    local reg=register.xml; [ "$BENCH" = call_auth ] && reg=register_auth.xml
    sipp "127.0.0.1:$TPORT" -sf "$SCN/$reg" -inf "$OUT/callee.csv" -i 127.0.0.1 -p "$UAS_PORT" -t u1 -m 1 \
      -nostdin -timeout 5s -timeout_error >/dev/null 2>&1 || { echo "request-cost: the callee could not register with $name" >&2; exit 1; }
    sipp -sf "$SCN/uas.xml" -i 127.0.0.1 -p "$UAS_PORT" -t u1 -m $((calls + RATE * 2)) -nostdin -timeout $((SECS * 3 + 30))s >/dev/null 2>&1 &
    UAS=$!
    uas_args=(-s uas1)
    sleep 0.3
  fi
  # warm-up: 2 s at the same rate (JIT, caches)
  sipp "127.0.0.1:$TPORT" -sf "$SCN/$SCEN" -inf "$OUT/callers.csv" "${uas_args[@]}" -i 127.0.0.1 -p "$WARM_PORT" -t u1 -r "$RATE" \
    -m $((RATE * 2)) -nostdin -timeout 30s -recv_timeout 5000 >/dev/null 2>&1 || true
  sleep 1
  threads > "$OUT/$name.before"
  local t0 t1 rc=0
  t0=$(date +%s.%N)
  sipp "127.0.0.1:$TPORT" -sf "$SCN/$SCEN" -inf "$OUT/callers.csv" "${uas_args[@]}" -i 127.0.0.1 -p "$UAC_PORT" -t u1 -r "$RATE" \
    -m "$calls" -nostdin -timeout $((SECS * 3 + 20))s -recv_timeout 5000 -trace_stat -stf "$OUT/$name.csv" -fd 3600 >/dev/null 2>&1 || rc=$?
  t1=$(date +%s.%N)
  threads > "$OUT/$name.after"
  stop_all
  local ok failed retrans
  read -r ok failed retrans < <(awk -F';' 'NR==1 { for (i = 1; i <= NF; i++) c[$i] = i; next } { l = $0 }
    END { split(l, v, ";"); print v[c["SuccessfulCall(C)"]], v[c["FailedCall(C)"]], v[c["Retransmissions(C)"]] }' "$OUT/$name.csv")
  awk -v name="$name" -v ok="$ok" -v failed="$failed" -v retrans="$retrans" -v rc="$rc" -v wall="$(echo "$t1 - $t0" | bc -l)" '
    NR == FNR { before[$1] = $3; next }
    { d = $3 - before[$1]; total += d; n = $2; sub(/[-_][0-9]+$/, "", n); byName[n] += d }
    END {
      printf "%s ok=%d failed=%d retrans=%d sipp_rc=%d wall=%.1fs cpu=%.0f%% us_per_request=%.1f\n", name, ok, failed, retrans, rc, wall, total / 1e7 / wall, (ok > 0 ? total / 1e3 / ok : 0)
      for (k in byName) if (byName[k] / 1e7 / wall >= 0.5) printf "    %-16s %5.1f%%  %6.1f us/request\n", k, byName[k] / 1e7 / wall, (ok > 0 ? byName[k] / 1e3 / ok : 0)
    }' "$OUT/$name.before" "$OUT/$name.after" | tee -a "$OUT/summary.txt"
}

echo "request-cost: $BENCH at $RATE/s for ${SECS}s (results in $OUT)" | tee "$OUT/summary.txt"
[ "$ONLY" != kamailio ] && measure parley
[ "$ONLY" != parley ] && measure kamailio
if [ -z "$ONLY" ]; then
  awk '/us_per_request=/ { split($0, a, "us_per_request="); v[$1] = a[2] + 0 }
    END { if (v["kamailio"] > 0) printf "ratio (parley us per request / kamailio us per request) = %.2f\n", v["parley"] / v["kamailio"] }' "$OUT/summary.txt" | tee -a "$OUT/summary.txt"
fi
