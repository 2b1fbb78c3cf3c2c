// The source-prefix rule is shared with the TURN server (src/turn), so it lives in src/lib.
export { sourcePrefix } from '../../lib/source-prefix.js';
