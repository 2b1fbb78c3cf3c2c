#!/usr/bin/env bash
# Anchored-call capacity of a media relay: rtpengine (Debian rtpengine-daemon, userspace forwarding)
# and (PARLEY=1) Parley's media plane, one after the other, under the same media-load.ts load:
# N calls set up over rtpengine's ng protocol, synthetic 20-ms PCMU both ways per call (50 packets/s
# per direction), steps of N going up until loss passes 1 % or the generator cannot keep up. Then
# the ratios Parley / rtpengine: capacity (most calls at < 1 % loss) and CPU per relayed packet.
#
#   bench/media/media-bench.sh                       # rtpengine: 50 100 200 400 800 1600 calls, 10 s each
#   QUICK=1 bench/media/media-bench.sh               # 50 and 200 calls, 3 s each (~30 s): shows it works
#   STEPS="100 300 600" SECS=20 bench/media/media-bench.sh
#   PARLEY=1 bench/media/media-bench.sh              # Parley too (parley-serve.sh; needs the media runtime and dist/)
#   PARLEY=1 ONLY=parley bench/media/media-bench.sh  # Parley alone
#   CASE=transcode STEPS="5 10 20 40" bench/media/media-bench.sh  # Opus (A) <-> PCMU (B), transcoded by the relay
#   CASE=webrtc STEPS="50 100 200" bench/media/media-bench.sh    # DTLS-SRTP (A: ICE, DTLS, rtcp-mux) <-> RTP (B)
#   PARLEY=1 CASE="rtp webrtc transcode" bench/media/media-bench.sh  # the three cases, each with its own steps
#                                                    # (STEPS_rtp, STEPS_webrtc, STEPS_transcode; STEPS for all)
# The last lines, `ratio parley/rtpengine <case> ...`, are the comparison (also in ratios.txt).
#
# Two cores: the server (every thread of it) on SERVER_CPU (0), the generator on GEN_CPU (1), with
# taskset. Loopback only. Ports: ng on NG_PORT (2223; NG_PORT+1 for Parley), relay ports
# PORT_MIN-PORT_MAX (40000-59999: 4 a call, RTP and RTCP on each side; inside Linux's ephemeral
# range, which the kernel does not hand out while a relay holds them, and away from the interop
# slices 20000-32749). Every run is bounded by `timeout`; everything started here is stopped by its
# PID on exit. Logs, JSON and summary.txt in /tmp/parley-media-bench/run-*.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
: "${QUICK:=0}"
if [ "$QUICK" = 1 ]; then : "${STEPS_rtp:=${STEPS:-50 200}}" "${STEPS_webrtc:=${STEPS:-20 50}}" "${STEPS_transcode:=${STEPS:-5 10}}" "${SECS:=3}" "${WARMUP:=1}"; fi
# per case (STEPS, when set, is every case's): the generator itself gives out near 1,600 plain
# calls, fewer with SRTP on side A; transcoding costs some 30 times a forward
: "${STEPS_rtp:=${STEPS:-50 100 200 400 800 1600}}" "${STEPS_webrtc:=${STEPS:-50 100 200 400 800}}" "${STEPS_transcode:=${STEPS:-5 10 20 40 80}}"
: "${SECS:=10}" "${WARMUP:=2}" "${MAX_LOSS:=1}" "${MAX_CALLS:=4000}"
: "${NG_PORT:=2223}" "${PORT_MIN:=40000}" "${PORT_MAX:=59999}" "${SERVER_CPU:=0}" "${GEN_CPU:=1}"
: "${PARLEY:=0}" "${ONLY:=}" "${RTPENGINE_THREADS:=}" "${CASE:=rtp}" "${RTPENGINE_DTLS:=}"
: "${OUT:=/tmp/parley-media-bench/run-$(date +%Y%m%d-%H%M%S)}"
NODE="$ROOT/node_modules/.bin/node"
for cmd in rtpengine taskset timeout ss; do
  command -v "$cmd" >/dev/null || { echo "media-bench: $cmd is missing (Debian rtpengine-daemon, util-linux, coreutils, iproute2)" >&2; exit 1; }
done
for p in "$NG_PORT" $((NG_PORT + 1)); do
  if ss -Hlnu "sport = :$p" 2>/dev/null | grep -q .; then echo "media-bench: UDP port $p is in use" >&2; exit 1; fi
done
mkdir -p "$OUT"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
}
trap cleanup EXIT

# rtpengine in userspace (no kernel table), in the foreground, logging to stderr at level 3 (errors):
# no config file, no delay before a deleted call's ports are free (the next step needs them)
rtpengine_start() { # $1: ng port; echoes the PID (taskset execs rtpengine: the PID is rtpengine's)
  local threads=()
  [ -n "$RTPENGINE_THREADS" ] && threads=(--num-threads="$RTPENGINE_THREADS")
  taskset -c "$SERVER_CPU" rtpengine --config-file=none --foreground --table=-1 --log-stderr --log-level=3 \
    --interface=127.0.0.1 --listen-ng="127.0.0.1:$1" --port-min="$PORT_MIN" --port-max="$PORT_MAX" \
    --delete-delay=0 --timeout=60 "${threads[@]}" >> "$OUT/rtpengine.log" 2>&1 &
  echo $!
}

# Parley: `parley serve` (dist/) with the media plane's ng control socket on 127.0.0.1:$1 and the
# relay ports PORT_MIN-PORT_MAX (parley-serve.sh); PARLEY_CMD replaces that command.
parley_start() {
  : "${PARLEY_CMD:=$HERE/parley-serve.sh}"
  NG_LISTEN="127.0.0.1:$1" PORT_MIN="$PORT_MIN" PORT_MAX="$PORT_MAX" taskset -c "$SERVER_CPU" bash -c "exec $PARLEY_CMD" >> "$OUT/parley.log" 2>&1 &
  echo $!
}

wait_listening() { # $1: port, $2: pid
  for _ in $(seq 1 150); do
    ss -Hlnu "sport = :$1" 2>/dev/null | grep -q . && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

SERVERS="rtpengine"
[ "$PARLEY" = 1 ] && SERVERS="rtpengine parley"
[ -n "$ONLY" ] && SERVERS="$ONLY"
for c in $CASE; do
  case "$c" in rtp|webrtc|transcode) ;; *) echo "media-bench: CASE $c: rtp, webrtc or transcode" >&2; exit 1 ;; esac
done
{
  echo "media-bench $(date -u +%FT%TZ), $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'): cases $CASE, ${SECS}-s steps, warm-up ${WARMUP} s, server on CPU $SERVER_CPU, generator on CPU $GEN_CPU, $(nproc) CPUs"
  echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) before the run"
} | tee "$OUT/summary.txt"
for c in $CASE; do
  steps_var="STEPS_$c"
  steps="${!steps_var}"
  steps_csv=$(echo "$steps" | tr ' ' ',')
  extra=()
  # RTPENGINE_DTLS=passive: ng DTLS: passive (rtpengine the DTLS server, as Parley is); by default it
  # is the client towards A's actpass, as werift's client lost 2-6 % of handshakes against it
  [ "$c" = webrtc ] && [ -n "$RTPENGINE_DTLS" ] && extra=(--dtls "$RTPENGINE_DTLS")
  echo "case $c: steps $steps" | tee -a "$OUT/summary.txt"
  for server in $SERVERS; do
    port=$NG_PORT
    [ "$server" = parley ] && port=$((NG_PORT + 1))
    if [ "$server" = rtpengine ]; then pid=$(rtpengine_start "$port"); else pid=$(parley_start "$port"); fi
    PIDS+=("$pid")
    wait_listening "$port" "$pid" || { echo "media-bench: $server did not listen on $port (see $OUT/$server.log)" >&2; exit 1; }
    sleep 0.5
    # the bound: every step's warm-up, measure, drain, setup and (webrtc) handshakes, plus a minute
    n_steps=$(echo "$steps" | wc -w)
    limit=$(( n_steps * (SECS + WARMUP + 60) + 60 ))
    run_extra=()
    [ "$server" = rtpengine ] && run_extra=("${extra[@]}")
    timeout "$limit" taskset -c "$GEN_CPU" "$NODE" --import tsx "$HERE/media-load.ts" --ng "127.0.0.1:$port" --pid "$pid" --label "$server" \
      --case "$c" --steps "$steps_csv" --secs "$SECS" --warmup "$WARMUP" --max-loss "$MAX_LOSS" --max-calls "$MAX_CALLS" --max-run "$limit" \
      "${run_extra[@]}" --json "$OUT/$server-$c.json" 2>&1 | tee -a "$OUT/summary.txt" || echo "media-bench: the $server run failed (see above)" | tee -a "$OUT/summary.txt"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  done
done
# the comparison, per case, for pasting
for c in $CASE; do
  if [ -f "$OUT/rtpengine-$c.json" ] && [ -f "$OUT/parley-$c.json" ]; then
    "$NODE" --import tsx "$HERE/media-load.ts" --compare "$OUT/rtpengine-$c.json" "$OUT/parley-$c.json"
  fi
done | tee "$OUT/ratios.txt" | tee -a "$OUT/summary.txt"
echo "media-bench: logs and summary in $OUT"
