#!/usr/bin/env bash
# REGISTER/s (with digest auth) and calls/s through the proxy, Parley against Kamailio in the
# same run, measured by the shared sipp harness (../shared/bench/kamailio/run.sh) with the same
# scenarios, steps and pass rule for both. Prints the ratios parley/kamailio.
#
#   bench/sip/proxy-bench.sh                       # QUICK=1 (one search, 8 s steps) for both servers
#   QUICK=0 bench/sip/proxy-bench.sh               # the harness defaults (3 searches, 15 s steps; ~1 h)
#   BENCHES="register_auth call" bench/sip/proxy-bench.sh
#   WORKERS=0 bench/sip/proxy-bench.sh             # Parley's SIP core in the main thread only (default auto: one worker thread per core)
#   SKIP_KAMAILIO=1 bench/sip/proxy-bench.sh       # Parley only (for quick iterations; no ratios)
#   PARLEY_CONFIG=/tmp/p.json bench/sip/proxy-bench.sh  # Parley with a configuration file (e.g. {"sip":{"workerUdp":false}})
#
# Loopback only. Every sipp run is bounded by the harness. Parley runs on 127.0.0.1:5070 (SIP_PORT)
# (no auth, the harness's TARGET) and :5071 (AUTH_PORT; digest auth, TARGET_AUTH); Kamailio on the same ports
# afterwards (never at the same time).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
HARNESS="${HARNESS:-$ROOT/../shared/bench/kamailio}"
# The project's Node.js (24, the `node` dev dependency) first, also when run outside `npm run`.
export PATH="$ROOT/node_modules/.bin:$PATH"
[ -x "$HARNESS/run.sh" ] || { echo "proxy-bench: the shared harness is missing at $HARNESS" >&2; exit 1; }
: "${QUICK:=1}" "${BENCHES:=register register_auth call call_auth}" "${USERS:=10000}" "${WORKERS:=auto}" "${SKIP_KAMAILIO:=0}"
: "${WORK:=/tmp/parley-proxy-bench}"
# Ports of the two listeners (Parley's, then Kamailio's); another benchmark on this machine can
# use others, with the harness's sipp ports moved too (UAS_PORT_BASE, UAC_PORT_BASE, REG_PORT).
: "${SIP_PORT:=5070}" "${AUTH_PORT:=5071}"
export QUICK BENCHES USERS
mkdir -p "$WORK"
RUN="$WORK/run-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$RUN"

(cd "$ROOT" && npx tsc -p tsconfig.build.json)

# Another server on these ports (a second bench on this machine) would answer the harness's probe
# and be measured in Parley's place: refuse to start, and stop if Parley did not start.
for port in "$SIP_PORT" "$AUTH_PORT"; do
  if ss -Hlnu "sport = :$port" 2>/dev/null | grep -q .; then
    echo "proxy-bench: UDP port $port is in use (another benchmark?): $(ss -Hlnup "sport = :$port" | head -1)" >&2
    exit 1
  fi
done

# subscribers: the harness's callers (user000001…) and callees (uas1…uas400), password benchpass
DATA="$RUN/parley-data"
{
  for i in $(seq 1 "$USERS"); do printf 'user%06d@127.0.0.1,benchpass\n' "$i"; done
  for i in $(seq 0 400); do printf 'uas%d@127.0.0.1,benchpass\n' "$i"; done
} > "$RUN/users.csv"
node "$ROOT/dist/cli/main.js" user import "$RUN/users.csv" --data-dir "$DATA" >&2

node "$ROOT/dist/cli/main.js" serve --listen "udp:127.0.0.1:$SIP_PORT;noauth" "udp:127.0.0.1:$AUTH_PORT" \
  --data-dir "$DATA" --log-level warn --workers "$WORKERS" ${PARLEY_CONFIG:+--config "$PARLEY_CONFIG"} > "$RUN/parley.log" 2>&1 &
PARLEY=$!
trap 'kill "$PARLEY" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do grep -q "Parley is listening" "$RUN/parley.log" 2>/dev/null && break; kill -0 "$PARLEY" 2>/dev/null || break; sleep 0.2; done
if ! kill -0 "$PARLEY" 2>/dev/null || ! grep -q "Parley is listening" "$RUN/parley.log"; then
  echo "proxy-bench: Parley did not start (nothing measured):" >&2
  cat "$RUN/parley.log" >&2
  exit 1
fi

echo "== Parley (pid $PARLEY)" >&2
SUT=external TARGET="127.0.0.1:$SIP_PORT" TARGET_AUTH="127.0.0.1:$AUTH_PORT" SUT_PIDS="$PARLEY" RESULTS="$RUN/parley" \
  "$HARNESS/run.sh" >&2 || echo "proxy-bench: the Parley run failed" >&2
kill "$PARLEY" 2>/dev/null || true
wait "$PARLEY" 2>/dev/null || true
trap - EXIT

if [ "$SKIP_KAMAILIO" != 1 ]; then
  echo "== Kamailio" >&2
  TARGET="127.0.0.1:$SIP_PORT" TARGET_AUTH="127.0.0.1:$AUTH_PORT" RESULTS="$RUN/kamailio" "$HARNESS/run.sh" >&2 || echo "proxy-bench: the Kamailio run failed" >&2
fi

# ratio table from the two summary.txt files
node --input-type=module - "$RUN/parley/summary.txt" "$RUN/kamailio/summary.txt" <<'JS'
import { readFileSync } from 'node:fs';
const read = (f) => {
  const out = {};
  try {
    for (const line of readFileSync(f, 'utf8').split('\n')) {
      const m = /^(\w+)_(rps|cps)=(\S+)/.exec(line);
      if (m) out[m[1]] = { unit: m[2], value: Number(m[3]), cpu: (/sut_cpu_pct=(\S+)/.exec(line) ?? [])[1] };
    }
  } catch {}
  return out;
};
const [p, k] = [read(process.argv[2]), read(process.argv[3])];
console.log('bench            parley      kamailio    ratio   (parley cpu% / kamailio cpu%)');
for (const b of new Set([...Object.keys(p), ...Object.keys(k)])) {
  const a = p[b], c = k[b];
  const ratio = a && c && c.value > 0 ? (a.value / c.value).toFixed(2) + 'x' : 'n/a';
  console.log(`${b.padEnd(16)} ${String(a?.value ?? 'n/a').padStart(7)} ${(a?.unit ?? '').padEnd(4)}${String(c?.value ?? 'n/a').padStart(8)} ${(c?.unit ?? '').padEnd(4)} ${ratio.padStart(6)}   (${a?.cpu ?? '-'} / ${c?.cpu ?? '-'})`);
}
JS
echo "results: $RUN" >&2
