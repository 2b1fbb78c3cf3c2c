#!/usr/bin/env bash
# TURN relay throughput and memory, coturn and (PARLEY=1) Parley in the same run, with the same
# turnutils_uclient load: CLIENTS clients over UDP with long-term credentials, channels
# (ChannelData), SIZE-byte packets, to one turnutils_peer echo on loopback. Each step offers RATE
# packets per second per client (uclient's -z = 1000/RATE ms) for SECS seconds; the step passes
# when under 0.1 % of the packets are lost. Then ALLOCS allocations are held (uclient -h) and the
# server's memory is sampled.
#
#   bench/turn/turn-bench.sh                           # coturn: 50 clients, 172 B, 50/100/200 per client per s, 5 s each
#   RATES="100 200 400" SECS=10 bench/turn/turn-bench.sh
#   QUICK=1 bench/turn/turn-bench.sh                   # one 2-s step at 200/s per client, 200 held allocations: shows it works
#   STRACE=1 bench/turn/turn-bench.sh                  # + system calls per relayed packet (strace -c -f; slows the server)
#   PROCS=2 bench/turn/turn-bench.sh                   # the clients split over 2 uclient processes (one is one thread)
#   PARLEY=1 bench/turn/turn-bench.sh                  # Parley too, once its TURN server exists (see parley_start)
#
# Figures per step and server:
#   offered   - packets per second the clients are asked to send (CLIENTS x RATE); uclient, one
#               thread, may send fewer: relayed/s says what went through;
#   relayed/s - packets the server relayed per second: every echoed message was relayed twice
#               (client -> peer as ChannelData in, UDP out; peer -> client as UDP in, ChannelData
#               out), so 2 x echoed per second, from uclient's once-a-second progress lines (whole
#               seconds: +-1 s over the step, so use SECS >= 10 for figures);
#   loss      - (sent - echoed) / sent over every uclient process (%), plus uclient's "send dropped";
#   rtt       - uclient's average round trip (whole milliseconds: 0 means under 1 ms), averaged over the processes;
#   cpu/pkt   - the server's user+system CPU (/proc/PID/stat, all its threads) over the step,
#               per relayed packet, in microseconds;
#   rss       - the server's resident set (VmRSS) after the step.
# Held allocations: RSS before and with ALLOCS clients' allocations up, and the difference per
# allocation (uclient's "Received relay addr" lines count the allocations).
#
# Loopback only. Ports: TURN on PORT (19478; PORT+1 for Parley), the peer on PORT+10, relay ports
# 61000-65000 (above Linux's ephemeral range, away from the interop slices 20000-32749). Every
# uclient run is bounded by `timeout`; everything started here is stopped by its PID.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
: "${QUICK:=0}"
if [ "$QUICK" = 1 ]; then : "${RATES:=200}" "${SECS:=2}" "${ALLOCS:=200}"; fi
: "${CLIENTS:=50}" "${SIZE:=172}" "${SECS:=5}" "${RATES:=50 100 200}" "${ALLOCS:=500}" "${PORT:=19478}"
: "${PARLEY:=0}" "${STRACE:=0}" "${PROCS:=1}"
: "${OUT:=/tmp/parley-turn-bench/run-$(date +%Y%m%d-%H%M%S)}"
RELAY_MIN=61000 RELAY_MAX=65000 PEER_PORT=$((PORT + 10)) USER=bench PASS=bench-pass REALM=example.org
for cmd in turnserver turnutils_uclient turnutils_peer timeout; do
  command -v "$cmd" >/dev/null || { echo "turn-bench: $cmd is missing (Debian package coturn)" >&2; exit 1; }
done
for p in "$PORT" $((PORT + 1)) "$PEER_PORT"; do
  if ss -Hlnu "sport = :$p" 2>/dev/null | grep -q .; then echo "turn-bench: UDP port $p is in use" >&2; exit 1; fi
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

# CPU ticks (user + system) of a process and all its threads.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
CLK_TCK=$(getconf CLK_TCK)

coturn_start() { # $1: port; echoes the PID
  turnserver -n --no-cli --log-file "$OUT/coturn.log" --simple-log --pidfile "$OUT/coturn.pid" --userdb "$OUT/coturn.db" \
    --listening-ip 127.0.0.1 --relay-ip 127.0.0.1 --listening-port "$1" --min-port "$RELAY_MIN" --max-port "$RELAY_MAX" \
    --lt-cred-mech --user "$USER:$PASS" --realm "$REALM" --fingerprint --no-tls --no-dtls --no-rfc5780 \
    --allow-loopback-peers --no-multicast-peers --total-quota 0 --user-quota 0 >/dev/null 2>&1 &
  echo $!
}

# Parley's TURN server: `parley serve` (dist/, built first) with the TURN listener on 127.0.0.1:$1,
# the same relay range, the same user, loopback peers allowed, no quota or bandwidth limit
# (parley-serve.sh); PARLEY_CMD replaces that command.
parley_start() {
  : "${PARLEY_CMD:=$HERE/parley-serve.sh}"
  TURN_PORT="$1" RELAY_MIN="$RELAY_MIN" RELAY_MAX="$RELAY_MAX" TURN_USER="$USER" TURN_PASS="$PASS" TURN_REALM="$REALM" \
    bash -c "exec $PARLEY_CMD" > "$OUT/parley.log" 2>&1 &
  echo $!
}

wait_listening() { # $1: port, $2: pid
  for _ in $(seq 1 100); do
    ss -Hlnu "sport = :$1" 2>/dev/null | grep -q . && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

SERVERS="coturn"
[ "$PARLEY" = 1 ] && SERVERS="coturn parley"
printf '%-7s %6s %8s %9s %10s %8s %7s %9s %8s\n' server rate/c offered relayed/s loss% dropped rtt_ms cpu/pkt_us rss_MB | tee "$OUT/summary.txt"
for server in $SERVERS; do
  # a fresh echo peer per server: one that served the other server's held allocations (hundreds of
  # relayed addresses) left the next server's steps hanging in uclient (seen with coturn, then Parley)
  turnutils_peer -p "$PEER_PORT" -L 127.0.0.1 >/dev/null 2>&1 &
  peer_pid=$!
  PIDS+=("$peer_pid")
  wait_listening "$PEER_PORT" "$peer_pid" || { echo "turn-bench: turnutils_peer did not start" >&2; exit 1; }
  port=$PORT
  [ "$server" = parley ] && port=$((PORT + 1))
  if [ "$server" = coturn ]; then pid=$(coturn_start "$port"); else pid=$(parley_start "$port") || exit 1; fi
  PIDS+=("$pid")
  wait_listening "$port" "$pid" || { echo "turn-bench: $server did not listen on $port" >&2; exit 1; }
  sleep 0.5
  for rate in $RATES; do
    n=$((rate * SECS)) z=$((1000 / rate))
    log="$OUT/$server-rate$rate"
    t0=$(cpu_ticks "$pid")
    # PROCS uclient processes at once, CLIENTS/PROCS clients each (one uclient is one thread)
    procs=()
    for i in $(seq 1 "$PROCS"); do
      timeout $((SECS * 4 + 30)) stdbuf -oL turnutils_uclient -p "$port" -u "$USER" -w "$PASS" -e 127.0.0.1 -r "$PEER_PORT" \
        -m $((CLIENTS / PROCS)) -n "$n" -l "$SIZE" -z "$z" -c 127.0.0.1 > "$log.$i.log" 2>&1 &
      procs+=($!)
    done
    for p in "${procs[@]}"; do wait "$p" || true; done
    t1=$(cpu_ticks "$pid")
    logs=("$log".*.log)
    sent=$(awk -F'tot_send_msgs=' '/start_mclient: tot_send_msgs=/ { split($2, a, ","); v += a[1] } END { print v + 0 }' "${logs[@]}")
    recv=$(awk -F'tot_recv_msgs=' '/start_mclient: tot_send_msgs=/ { v += $2 } END { print v + 0 }' "${logs[@]}")
    loss=$(awk -v s="$sent" -v r="$recv" 'BEGIN { x = 100; if (s > 0) x = 100 * (s - r) / s; printf "%.4f", x }')
    dropped=$(awk '/total send dropped/ { s = $0; sub(/.*total send dropped /, "", s); sub(/ .*/, "", s); v += s; seen = 1 } END { print seen ? v : "n/a" }' "${logs[@]}")
    rtt=$(awk '/Average round trip delay/ { s = $0; sub(/.*delay /, "", s); sub(/ .*/, "", s); v += s; k++ } END { if (k) printf "%.3f", v / k; else print "n/a" }' "${logs[@]}")
    offered=$((rate * CLIENTS))
    # echoed per second from uclient's once-a-second progress lines ("T: : start_mclient: msz=...,
    # tot_recv_msgs=R, ..."): from the first line with R > 0 to the final total, whole seconds
    # (per process, then summed)
    relayed=0
    for f in "${logs[@]}"; do
      r=$(awk '
        /start_mclient: msz=/ { t = $1 + 0; s = $0; sub(/.*tot_recv_msgs=/, "", s); r = s + 0; if (r > 0 && !seen) { seen = 1; ta = t; ra = r } }
        /start_mclient: tot_send_msgs=/ { t = $1 + 0; s = $0; sub(/.*tot_recv_msgs=/, "", s); te = t; re = s + 0 }
        END { x = 0; if (seen && te > ta) x = 2 * (re - ra) / (te - ta); printf "%d", x }' "$f")
      relayed=$((relayed + r))
    done
    cpu_us=$(awk -v t=$((t1 - t0)) -v hz="$CLK_TCK" -v r="$recv" 'BEGIN { x = 0; if (r > 0) x = t / hz * 1e6 / (2 * r); printf "%.1f", x }')
    rss=$(awk -v k="$(rss_kb "$pid")" 'BEGIN { printf "%.1f", k / 1024 }')
    printf '%-7s %6s %8s %9s %10s %8s %7s %9s %8s\n' "$server" "$rate" "$offered" "$relayed" "$loss" "$dropped" "$rtt" "$cpu_us" "$rss" | tee -a "$OUT/summary.txt"
    [ "$sent" -gt 0 ] || echo "  ($server: uclient sent nothing, see $log.*.log)" | tee -a "$OUT/summary.txt"
  done

  if [ "$STRACE" = 1 ] && command -v strace >/dev/null; then
    # system calls per relayed packet, over one step at the lowest rate, every thread of the server
    rate=${RATES%% *} n=$((${RATES%% *} * SECS)) z=$((1000 / ${RATES%% *}))
    strace -c -f -q -p "$pid" -o "$OUT/$server-strace.txt" & st=$!
    sleep 1
    timeout $((SECS * 4 + 30)) turnutils_uclient -p "$port" -u "$USER" -w "$PASS" -e 127.0.0.1 -r "$PEER_PORT" \
      -m "$CLIENTS" -n "$n" -l "$SIZE" -z "$z" -c 127.0.0.1 > "$OUT/$server-strace-uclient.log" 2>&1 || true
    kill -INT "$st"; wait "$st" 2>/dev/null || true
    recv=$(awk -F'tot_recv_msgs=' '/start_mclient: tot_send_msgs=/ { v = $2 } END { print v + 0 }' "$OUT/$server-strace-uclient.log")
    awk -v r="$recv" -v s="$server" '
      $1 ~ /^[0-9.]+$/ && NF >= 5 && $NF != "total" { calls[$NF] = $4; total += $4 }
      END {
        if (r == 0) { print "  " s ": strace step relayed nothing"; exit }
        printf "  %s system calls per relayed packet: %.2f (", s, total / (2 * r)
        n = 0; for (c in calls) if (calls[c] / (2 * r) >= 0.05) { printf "%s%s %.2f", (n++ ? ", " : ""), c, calls[c] / (2 * r) }
        print ")"
      }' "$OUT/$server-strace.txt" | tee -a "$OUT/summary.txt"
  fi

  if [ "$ALLOCS" -gt 0 ]; then
    before=$(rss_kb "$pid")
    log="$OUT/$server-held.log"
    timeout 120 turnutils_uclient -v -h -p "$port" -u "$USER" -w "$PASS" -e 127.0.0.1 -r "$PEER_PORT" \
      -m "$ALLOCS" -n 1 -l "$SIZE" -z 1000 -c 127.0.0.1 > "$log" 2>&1 &
    held_pid=$!
    PIDS+=("$held_pid")
    # wait until the allocations stop growing (bounded: 60 s)
    last=-1
    for _ in $(seq 1 60); do
      sleep 1
      got=$(grep -c 'Received relay addr' "$log" || true)
      [ "$got" = "$last" ] && [ "$got" -gt 0 ] && break
      last=$got
    done
    allocs=$(grep -c 'Received relay addr' "$log" || true)
    with=$(rss_kb "$pid")
    kill "$held_pid" 2>/dev/null || true
    wait "$held_pid" 2>/dev/null || true
    awk -v s="$server" -v a="$allocs" -v b="$before" -v w="$with" 'BEGIN { x = 0; if (a > 0) x = (w - b) / a
      printf "  %s held allocations: %d; RSS %.1f MB -> %.1f MB: %.1f kB per allocation\n", s, a, b / 1024, w / 1024, x }' |
      tee -a "$OUT/summary.txt"
  fi
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill "$peer_pid" 2>/dev/null || true
  wait "$peer_pid" 2>/dev/null || true
done
echo "turn-bench: logs and summary in $OUT"
