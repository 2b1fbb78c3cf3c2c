#!/usr/bin/env bash
# Parley as media-bench.sh asks for it (its PARLEY_CMD): the media plane's ng control socket on
# $NG_LISTEN (media.control.listen), relay ports $PORT_MIN-$PORT_MAX, SIP on an ephemeral loopback
# port, no TURN, no SIP workers: the bench measures the media plane.
#   PARLEY=1 bench/media/media-bench.sh
# Runs dist/ (npm run build first); the data directory is a fresh temporary one, removed after Parley exits.
# NODE_FLAGS: flags for node, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" (profiles of every thread).
# MAX_SESSIONS: media.maxSessions (4000: above the bench's largest step).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
: "${NG_LISTEN:?}" "${PORT_MIN:?}" "${PORT_MAX:?}"
: "${MAX_SESSIONS:=4000}"
NODE="$ROOT/node_modules/.bin/node"
DATA="$(mktemp -d /tmp/parley-media-bench-data.XXXXXX)"
cat > "$DATA/parley.json" <<JSON
{
  "log": { "level": "warn" },
  "http": { "listen": [] },
  "turn": { "enabled": false },
  "media": {
    "address": "127.0.0.1",
    "ports": { "min": $PORT_MIN, "max": $PORT_MAX },
    "maxSessions": $MAX_SESSIONS,
    "control": { "listen": "$NG_LISTEN" }
  }
}
JSON
# exec: the bench measures this PID's CPU, so it must be Parley's; the data directory goes once
# that PID has ended (a watcher in the background, bounded by Parley's life)
pid=$$
( while kill -0 "$pid" 2>/dev/null; do sleep 1; done; rm -rf "$DATA" ) >/dev/null 2>&1 &
exec "$NODE" ${NODE_FLAGS:-} "$ROOT/dist/cli/main.js" serve --config "$DATA/parley.json" --data-dir "$DATA" --listen udp:127.0.0.1:0 --workers 0
