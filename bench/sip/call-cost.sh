#!/usr/bin/env bash
# CPU per proxied call at a fixed rate: one Parley (this checkout's dist/, built first) with a no-auth
# UDP listener, one callee (sipp uas, registered), and a sipp caller at RATE calls/s for SECS
# seconds (after a 2-s warm-up at the same rate) with the shared harness's scenarios (INVITE, 180,
# 200, ACK, BYE, 200; Record-Route). Prints the calls, failures, retransmissions, Parley's CPU (all
# its threads, from /proc/PID/task/*/schedstat) and the CPU time per call, per thread too.
# A steadier figure than proxy-bench.sh's highest passing rate on a shared machine: what one call
# costs does not depend on where a burst of losses happens to fall.
#
#   bench/sip/call-cost.sh                          # 600 calls/s for 15 s
#   RATE=1000 SECS=20 bench/sip/call-cost.sh
#   NODE_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof" bench/sip/call-cost.sh   # profiles of every thread
#   NODE_FLAGS=--trace-gc bench/sip/call-cost.sh    # then count the lines in $OUT/parley.log
#
# Loopback only; ports PORT (5270), PORT+31 (the callee), PORT+531/532 (the caller). Every sipp run
# is bounded by -m and -timeout; everything started here is stopped by its PID.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
HARNESS="${HARNESS:-$ROOT/../shared/bench/kamailio}"
SCN="$HARNESS/scenarios"
: "${RATE:=600}" "${SECS:=15}" "${PORT:=5270}" "${NODE_FLAGS:=}" "${BUILD:=1}"
: "${OUT:=/tmp/parley-call-cost/run-$(date +%Y%m%d-%H%M%S)}"
export PATH="$ROOT/node_modules/.bin:$PATH"
[ -d "$SCN" ] || { echo "call-cost: the shared harness's scenarios are missing at $SCN" >&2; exit 1; }
UAS_PORT=$((PORT + 31)) WARM_PORT=$((PORT + 531)) UAC_PORT=$((PORT + 532))
for p in "$PORT" "$UAS_PORT" "$WARM_PORT" "$UAC_PORT"; do
  if ss -Hlnu "sport = :$p" 2>/dev/null | grep -q .; then echo "call-cost: UDP port $p is in use" >&2; exit 1; fi
done
[ "$BUILD" = 1 ] && (cd "$ROOT" && npx tsc -p tsconfig.build.json)
mkdir -p "$OUT"

printf 'uas1@127.0.0.1,benchpass\n' > "$OUT/users.csv"
node "$ROOT/dist/cli/main.js" user import "$OUT/users.csv" --data-dir "$OUT/data" >/dev/null
# shellcheck disable=SC2086
node $NODE_FLAGS "$ROOT/dist/cli/main.js" serve --listen "udp:127.0.0.1:$PORT;noauth" --data-dir "$OUT/data" \
  --log-level warn > "$OUT/parley.log" 2>&1 &
PARLEY=$! UAS=""
cleanup() {
  [ -n "$UAS" ] && kill "$UAS" 2>/dev/null
  if kill -0 "$PARLEY" 2>/dev/null; then
    kill -INT "$PARLEY"
    for _ in $(seq 1 100); do kill -0 "$PARLEY" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$PARLEY" 2>/dev/null && kill -KILL "$PARLEY"
  fi
  wait 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 1 100); do grep -q "Parley is listening" "$OUT/parley.log" 2>/dev/null && break; kill -0 "$PARLEY" 2>/dev/null || break; sleep 0.2; done
grep -q "Parley is listening" "$OUT/parley.log" || { echo "call-cost: Parley did not start:" >&2; cat "$OUT/parley.log" >&2; exit 1; }

printf 'SEQUENTIAL\nuas1;[authentication username=uas1 password=benchpass];\n' > "$OUT/callee.csv"
sipp "127.0.0.1:$PORT" -sf "$SCN/register.xml" -inf "$OUT/callee.csv" -i 127.0.0.1 -p "$UAS_PORT" -t u1 -m 1 \
  -nostdin -timeout 5s -timeout_error >/dev/null 2>&1 || { echo "call-cost: the callee could not register" >&2; exit 1; }
"$HARNESS/gen_users.sh" 1000 user benchpass > "$OUT/callers.csv"
CALLS=$((RATE * SECS))
sipp -sf "$SCN/uas.xml" -i 127.0.0.1 -p "$UAS_PORT" -t u1 -m $((CALLS + RATE * 2)) -nostdin -timeout $((SECS * 3 + 30))s >/dev/null 2>&1 &
UAS=$!
sleep 0.3
sipp "127.0.0.1:$PORT" -sf "$SCN/uac.xml" -inf "$OUT/callers.csv" -s uas1 -i 127.0.0.1 -p "$WARM_PORT" -t u1 -r "$RATE" \
  -m $((RATE * 2)) -nostdin -timeout 30s -recv_timeout 5000 >/dev/null 2>&1 || true
sleep 1

threads() { local t; for t in /proc/"$PARLEY"/task/*; do printf '%s %s %s\n' "${t##*/}" "$(tr ' ' _ < "$t/comm")" "$(cut -d' ' -f1 "$t/schedstat")"; done; }
threads > "$OUT/threads.before"
T0=$(date +%s.%N)
rc=0
sipp "127.0.0.1:$PORT" -sf "$SCN/uac.xml" -inf "$OUT/callers.csv" -s uas1 -i 127.0.0.1 -p "$UAC_PORT" -t u1 -r "$RATE" \
  -m "$CALLS" -nostdin -timeout $((SECS * 3 + 20))s -recv_timeout 5000 -trace_stat -stf "$OUT/uac.csv" -fd 3600 >/dev/null 2>&1 || rc=$?
T1=$(date +%s.%N)
threads > "$OUT/threads.after"

read -r OK FAILED RETRANS < <(awk -F';' 'NR==1 { for (i = 1; i <= NF; i++) c[$i] = i; next } { l = $0 }
  END { split(l, v, ";"); print v[c["SuccessfulCall(C)"]], v[c["FailedCall(C)"]], v[c["Retransmissions(C)"]] }' "$OUT/uac.csv")
awk -v ok="$OK" -v wall="$(echo "$T1 - $T0" | bc -l)" -v rate="$RATE" -v secs="$SECS" -v rc="$rc" -v failed="$FAILED" -v retrans="$RETRANS" '
  NR == FNR { before[$1] = $3; next }
  { d = $3 - before[$1]; total += d; byName[$2] += d }
  END {
    printf "rate=%d/s secs=%d sipp_rc=%d ok=%d failed=%d retrans=%d wall=%.1fs parley_cpu=%.0f%% cpu_per_call=%.0fus\n", rate, secs, rc, ok, failed, retrans, wall, total / 1e7 / wall, (ok > 0 ? total / 1e3 / ok : 0)
    for (n in byName) printf "  %-16s %6.0f us/call\n", n, (ok > 0 ? byName[n] / 1e3 / ok : 0)
  }' "$OUT/threads.before" "$OUT/threads.after" | tee "$OUT/summary.txt"
echo "results: $OUT" >&2
