/**
 * One anchored call: side A (the offerer of the first offer) with its ports, and on the far side
 * one set of ports per branch the offer went out on (a forking proxy sends a copy per branch),
 * until an answer picks a branch: then side B is that branch, the two legs exist and a bridge
 * joins them. The session manager (media-sessions.ts) drives it; this file holds the state and
 * the sockets, and closes them all.
 */
import type { MediaProfile } from '../lib/media-control.js';
import { Bridge, type BridgePlan, type MediaCodecs } from './bridge.js';
import type { Leg, LegAddress } from './leg.js';
import type { MediaPorts } from './port-pool.js';
import type { DtlsParameters, IceParameters, LocalSide, RemoteSide, SdesCrypto } from './side.js';

/** What Parley writes about itself to a side beyond address and codecs: ICE and DTLS (webrtc), a=crypto (sdes). */
export interface LocalSecrets {
  readonly ice?: IceParameters;
  readonly dtls?: DtlsParameters;
  readonly crypto?: readonly SdesCrypto[];
}

/** A leg that takes re-offers (a new address, hold, an ICE restart). */
export type UpdatableLeg = Leg & {
  update?(remote: RemoteSide): void;
  /** An ICE restart (a WebRTC leg): the re-offer, and Parley's new ICE credentials. */
  restartIce?(remote: RemoteSide, ice: { readonly ufrag: string; readonly pwd: string }): void;
};

/** Makes legs of the profiles it supports (plain RTP here; WebRTC and SDES from the secure legs). */
export interface LegFactory {
  supports(profile: MediaProfile): boolean;
  /**
   * Parley's credentials towards a new side of this profile, on these ports: for a side Parley
   * answers (`answering`: its offer), chosen against what it offered (the a=crypto tag and suite,
   * the DTLS role); else for an offer of Parley's.
   */
  secrets(profile: MediaProfile, local: LegAddress, answering?: RemoteSide): LocalSecrets;
  create(profile: MediaProfile, ports: MediaPorts, local: LegAddress, remote: RemoteSide, secrets: LocalSecrets): UpdatableLeg;
}

/** Parley's end towards one side: its ports and what it wrote there. */
export interface SideEnd {
  readonly profile: MediaProfile;
  readonly ports: MediaPorts;
  /** Parley's credentials towards the side: ICE ones change on an ICE restart. */
  secrets: LocalSecrets;
  /** The SSRC Parley sends with towards this side. */
  readonly ssrc: number;
  /** The o= session id and version of what Parley writes to this side. */
  readonly originId: string;
  version: number;
  /** The SDP Parley last wrote to this side (to keep the version when nothing changed). */
  lastSdp: string | undefined;
  /** What Parley last described to this side (ports, codecs, direction). */
  local: LocalSide | undefined;
  /** The side's SDP: text as received, parsed, and read. */
  sdp: string | undefined;
  session: unknown;
  remote: RemoteSide | undefined;
  leg: UpdatableLeg | undefined;
  /** The tag of the side (From tag of its requests), once known. */
  tag: string | undefined;
}

export function newSideEnd(profile: MediaProfile, ports: MediaPorts, secrets: LocalSecrets, ssrc: number, originId: string): SideEnd {
  return { profile, ports, secrets, ssrc, originId, version: 0, lastSdp: undefined, local: undefined, sdp: undefined, session: undefined, remote: undefined, leg: undefined, tag: undefined };
}

/** An offer in progress within the dialog (re-INVITE, UPDATE): from which side, what it said. */
export interface PendingOffer {
  readonly from: 'a' | 'b';
  readonly branch: string;
  readonly sdp: string;
  readonly session: unknown;
  readonly remote: RemoteSide;
  /** The result given for it (the same offer again gets the same answer). */
  readonly result: { readonly ok: true; readonly anchored: true; readonly sdp: string };
}

export class MediaSession {
  /** Far-side ends by branch, until one is chosen (and after: the other branches until they fail). */
  readonly branches = new Map<string, SideEnd>();
  /** The branch whose answer is bridged now. */
  chosen: string | undefined;
  bridge: Bridge | undefined;
  plan: BridgePlan | undefined;
  pending: PendingOffer | undefined;
  /** Answers already given, by branch and SDP text (a 2xx retransmitted, a 183 then 200 with one SDP). */
  readonly answers = new Map<string, string>();
  /** performance.now() of the last offer or answer: no media since then for `timeout` ends the session. */
  lastSignal: number;
  closed = false;
  /** ms since the epoch of the first offer (for the operator's list of sessions). */
  readonly startedAt = Date.now();

  constructor(
    readonly callId: string,
    readonly a: SideEnd,
    now: number,
  ) {
    this.lastSignal = now;
  }

  /** The chosen far side, once answered. */
  get b(): SideEnd | undefined {
    return this.chosen === undefined ? undefined : this.branches.get(this.chosen);
  }

  /** The latest moment anything happened: signaling, or a packet on a leg. */
  lastActivity(): number {
    let t = this.lastSignal;
    if (this.a.leg !== undefined && this.a.leg.lastReceived > t) t = this.a.leg.lastReceived;
    for (const end of this.branches.values()) if (end.leg !== undefined && end.leg.lastReceived > t) t = end.leg.lastReceived;
    return t;
  }

  /** (Re)start the bridge between A's leg and the chosen branch's, with a plan and the sides' directions. */
  startBridge(plan: BridgePlan, codecs: MediaCodecs | undefined): void {
    const b = this.b;
    if (this.a.leg === undefined || b?.leg === undefined || this.a.remote === undefined || b.remote === undefined) throw new Error('bridge without two legs');
    this.bridge?.close();
    // towards a browser one SSRC of Parley's for the whole call (bridge.ts)
    const ssrcs = { ...(this.a.profile === 'webrtc' ? { a: this.a.ssrc } : {}), ...(b.profile === 'webrtc' ? { b: b.ssrc } : {}) };
    this.bridge = new Bridge(this.a.leg, b.leg, plan, { a: this.a.remote.direction, b: b.remote.direction }, codecs, ssrcs);
    this.plan = plan;
  }

  /** Close one branch's end (a fork that failed); the bridge goes with it when it was the chosen one. */
  closeBranch(branch: string): void {
    const end = this.branches.get(branch);
    if (end === undefined) return;
    if (this.chosen === branch) {
      this.bridge?.close();
      this.bridge = undefined;
      this.plan = undefined;
      this.chosen = undefined;
    }
    closeEnd(end);
    this.branches.delete(branch);
  }

  /** Close everything: bridge, legs, sockets. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.bridge?.close();
    this.bridge = undefined;
    closeEnd(this.a);
    for (const end of this.branches.values()) closeEnd(end);
    this.branches.clear();
  }
}

function closeEnd(end: SideEnd): void {
  end.leg?.close();
  end.leg = undefined;
  end.ports.close();
}
