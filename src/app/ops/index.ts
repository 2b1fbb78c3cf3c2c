import type { Operations } from '../../api/operations.js';
import type { ServerParts } from './server-parts.js';
import { registrarOps } from './registrar-ops.js';
import { serverOps } from './server-ops.js';
import { subscriberOps } from './subscriber-ops.js';
import { tokenOps } from './token-ops.js';
import { scriptOps } from './script-ops.js';
import { callOps } from './call-ops.js';
import { createTraceOps } from './trace-ops.js';
import { createMetricsOps } from './metrics-ops.js';
import { createTurnOps } from './turn-ops.js';
import { createMediaOps } from './media-ops.js';
import { configurationOps } from './configuration-ops.js';
import { createCaptureOps } from './captures.js';

/** The operations of a running server (src/api/operations.ts), each part from its own file here. */
export function createOperations(parts: ServerParts): Operations {
  const ops: Operations = {
    server: serverOps(parts, () => ops.metrics),
    metrics: createMetricsOps(parts),
    registrar: registrarOps(parts),
    subscribers: subscriberOps(parts),
    calls: callOps(parts),
    events: parts.events,
    traces: createTraceOps(parts),
    script: scriptOps(parts.scripts, parts.config.dataDir, parts.config.routing.script),
    turn: createTurnOps(parts),
    media: createMediaOps(parts),
    tokens: tokenOps(parts),
    configuration: configurationOps(parts),
    captures: createCaptureOps(parts.captures),
  };
  return ops;
}
