/**
 * `parley/routing`: what a routing script imports. The handler and context types (routing-api.ts),
 * `SipReply` to answer by throwing, `defineScript` for a typed default export, and the SIP types
 * the contexts hand out. See docs/routing.md.
 */
export { SipReply } from './sip-reply.js';
export { defineScript } from './routing-api.js';
export type {
  AuthCheck, FailureContext, HeaderActions, LogLevel, RelayOptions, RelayTarget, RelayTargetSpec, ReplyContext, RequestContext,
  RouteCheck, RoutingScript, SaveOptions, ScriptContextBase, StatelessContext,
} from './routing-api.js';
export type { Flow, SipRequest, SipResponse, Uri, SipUri, TelUri, NameAddr, Via } from '../sip/index.js';
