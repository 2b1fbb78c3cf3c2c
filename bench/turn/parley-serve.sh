#!/usr/bin/env bash
# Parley with TURN as turn-bench.sh asks for it (its PARLEY_CMD): the TURN listener on
# 127.0.0.1:$TURN_PORT, relayed ports $RELAY_MIN-$RELAY_MAX, the subscriber $TURN_USER/$TURN_PASS in
# the realm $TURN_REALM (the SIP domain), loopback peers allowed, no quota or bandwidth limit (the
# bench's 50 clients are one user), SIP on an ephemeral loopback port, no HTTP, no SIP workers.
#   PARLEY=1 PARLEY_CMD=bench/turn/parley-serve.sh bench/turn/turn-bench.sh
# Runs dist/ (npm run build first); the data directory is a fresh temporary one, removed after Parley exits.
# NODE_FLAGS: flags for node, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" (profiles of every thread).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
: "${TURN_PORT:?}" "${RELAY_MIN:?}" "${RELAY_MAX:?}" "${TURN_USER:?}" "${TURN_PASS:?}" "${TURN_REALM:?}"
NODE="$ROOT/node_modules/.bin/node"
DATA="$(mktemp -d /tmp/parley-turn-bench-data.XXXXXX)"
cat > "$DATA/parley.json" <<JSON
{
  "log": { "level": "warn" },
  "sip": { "domains": ["$TURN_REALM"] },
  "turn": {
    "listen": [{ "transport": "udp", "address": "127.0.0.1", "port": $TURN_PORT }],
    "minPort": $RELAY_MIN, "maxPort": $RELAY_MAX,
    "peers": { "allow": ["127.0.0.1/32"] },
    "quotas": { "perUser": 0, "perSource": 0, "total": 0 },
    "bandwidth": 0
  }
}
JSON
"$NODE" "$ROOT/dist/cli/main.js" user add "$TURN_USER@$TURN_REALM" -p "$TURN_PASS" --data-dir "$DATA" >/dev/null
# exec: the bench measures this PID's CPU and memory, so it must be Parley's; the data directory
# goes once that PID has ended (a watcher in the background, bounded by Parley's life)
pid=$$
( while kill -0 "$pid" 2>/dev/null; do sleep 1; done; rm -rf "$DATA" ) >/dev/null 2>&1 &
exec "$NODE" ${NODE_FLAGS:-} "$ROOT/dist/cli/main.js" serve --config "$DATA/parley.json" --data-dir "$DATA" --listen udp:127.0.0.1:0 --workers 0
