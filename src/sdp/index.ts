export type { MediaDescription, SdpConnection, SdpLine, SdpOrigin, SdpSection, SessionDescription } from './session-description.js';
export { parseSdp, SDP_LIMITS, type SdpError } from './parse.js';
export { serializeSdp } from './serialize.js';
export {
  addAttribute,
  attributesOf,
  getAttribute,
  getAttributes,
  getKeyedAttribute,
  hasAttribute,
  removeAttributes,
  setAttribute,
  splitAttribute,
  type SdpAttribute,
} from './attributes.js';
export { STATIC_PAYLOAD_TYPES, type StaticPayloadType } from './static-payload-types.js';
