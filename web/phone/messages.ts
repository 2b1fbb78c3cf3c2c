/**
 * What the phone says to a person when something does not work: JsSIP's causes and SIP status
 * codes turned into sentences. Pure functions (no DOM, no JsSIP import: the causes are JsSIP's
 * strings, `JsSIP.C.causes`), so the Node tests check every sentence.
 */

/** How JsSIP reports a failure or an end: its cause, and the SIP status when a response said it. */
export interface Outcome {
  /** JsSIP's cause, e.g. 'Busy', 'Unavailable', 'Authentication Error', 'Connection Error', 'Terminated'. */
  readonly cause: string;
  /** The status code of the final response that caused it, when there was one. */
  readonly status?: number | undefined;
  /** Who ended it: 'local' (this page), 'remote' (the other side or the server), 'system'. */
  readonly originator?: string | undefined;
}

/** The sentence when registration fails. `server` is the WebSocket URL the page uses. */
export function registrationFailureText(o: Outcome, server: string): string {
  if (o.status === 403) return 'The server refused the registration (403): wrong username or password too many times, or this user may not register here. Wait a few minutes, then try again.';
  if (o.status === 404) return 'The server does not know this user\'s domain (404).';
  if (o.status === 423) return 'The server asked for a longer registration time (423).';
  switch (o.cause) {
    case 'Authentication Error':
      return 'Wrong username or password.';
    case 'Connection Error':
      return `Cannot reach the server at ${server}. Check that Parley is running and that this page was opened from it.`;
    case 'Request Timeout':
      return 'The server did not answer the registration in time.';
    case 'Rejected':
      return `The server refused the registration${o.status ? ` (${o.status})` : ''}.`;
    default:
      return `Registration failed: ${o.cause}${o.status ? ` (${o.status})` : ''}.`;
  }
}

/** The sentence when a call could not be set up (no answer, busy…). `peer` names the other side. */
export function callFailureText(o: Outcome, peer: string): string {
  const code = o.status;
  // the status first: JsSIP maps several codes to one cause, and a person cares about the code's meaning
  switch (code) {
    case 486:
    case 600:
      return `${peer} is busy.`;
    case 480:
      return `${peer} is not reachable right now (not signed in, or not answering).`;
    case 404:
    case 604:
      return `There is no user ${peer} here.`;
    case 603:
      return `${peer} declined the call.`;
    case 403:
      return `You are not allowed to call ${peer} (403).`;
    case 408:
      return `${peer} did not answer in time.`;
    case 487:
      return o.originator === 'local' ? 'Call cancelled.' : `${peer} stopped calling.`;
    case 488:
    case 606:
      return `${peer}'s phone cannot handle this kind of call (no common audio or video format).`;
    case 401:
    case 407:
      return 'The server did not accept your password for this call. Register again.';
    case 503:
      return 'The server cannot place calls right now (503). Try again in a moment.';
    default:
      break;
  }
  switch (o.cause) {
    case 'Canceled':
      return o.originator === 'local' ? 'Call cancelled.' : `${peer} stopped calling.`;
    case 'Busy':
      return `${peer} is busy.`;
    case 'Rejected':
      return o.originator === 'local' ? 'Call rejected.' : `${peer} declined the call.`;
    case 'Unavailable':
      return `${peer} is not reachable right now (not signed in, or not answering).`;
    case 'Not Found':
      return `There is no user ${peer} here.`;
    case 'No Answer':
      return `${peer} did not answer.`;
    case 'Connection Error':
      return 'Lost the connection to the server during the call set-up.';
    case 'Request Timeout':
      return 'The server did not answer in time.';
    case 'User Denied Media Access':
      return 'The browser did not let this page use the camera and microphone. Allow them (the icon in the address bar) and call again.';
    case 'Incompatible SDP':
    case 'Bad Media Description':
    case 'Missing SDP':
    case 'WebRTC Error':
      return 'The call could not set up audio and video between the two sides.';
    case 'Authentication Error':
      return 'The server did not accept your password for this call. Register again.';
    case 'Address Incomplete':
      return `"${peer}" is not a complete address.`;
    default:
      return `The call failed: ${o.cause}${code ? ` (${code})` : ''}.`;
  }
}

/** The sentence when an established call ends. */
export function callEndText(o: Outcome, peer: string): string {
  switch (o.cause) {
    case 'Terminated':
      return o.originator === 'local' ? 'You hung up.' : `${peer} hung up.`;
    case 'RTP Timeout':
      return 'The call ended: audio and video stopped arriving (the network between you broke).';
    case 'No ACK':
      return `The call ended: ${peer}'s side never confirmed it.`;
    case 'Connection Error':
      return 'The call ended: the connection to the server was lost.';
    case 'Expires':
      return 'The call ended: its session timer expired.';
    case 'Dialog Error':
      return 'The call ended: the server lost track of it.';
    default:
      return `The call ended: ${o.cause}.`;
  }
}

/** The sentence when the WebSocket to the server closes or cannot open. */
export function disconnectedText(server: string, code?: number): string {
  return `Cannot reach the server at ${server}${code !== undefined && code !== 1000 && code !== 1006 ? ` (WebSocket close code ${code})` : ''}. Check that Parley is running; the phone keeps trying.`;
}

/** m:ss for a call's duration. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
