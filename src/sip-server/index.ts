export { SipServer, type SipServerOptions, type SipServerStats } from './sip-server.js';
export type { RequestHandler } from './core/request-handler.js';
export { BasicHandler } from './core/basic-handler.js';
export * from './auth/index.js';
