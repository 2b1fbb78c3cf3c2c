/**
 * The legs the media plane makes, by profile: plain RTP (rtp-leg.ts), SDES-SRTP (sdes-leg.ts) and
 * WebRTC, ICE-lite + DTLS-SRTP with rtcp-mux (webrtc-leg.ts, with the media plane's DTLS
 * certificate), and what Parley writes about itself to each: ICE credentials and fingerprint,
 * a=crypto.
 */
import { randomBytes } from 'node:crypto';
import type { MediaProfile } from '../lib/media-control.js';
import type { DtlsCertificate } from './certificate.js';
import type { LegAddress } from './leg.js';
import type { LegFactory, LocalSecrets, UpdatableLeg } from './media-session.js';
import type { MediaPorts } from './port-pool.js';
import { createRtpLeg } from './rtp-leg.js';
import { chooseRemoteCrypto, createSdesLeg, newSdesCrypto } from './sdes-leg.js';
import type { RemoteSide } from './side.js';
import { isAesCmSuite } from '../srtp/index.js';
import { createWebRtcLeg } from './webrtc-leg.js';

/** A maker of one profile's legs and of Parley's credentials towards such a side. */
export interface ProfileLegs {
  secrets(local: LegAddress, answering?: RemoteSide): LocalSecrets;
  create(ports: MediaPorts, local: LegAddress, remote: RemoteSide, secrets: LocalSecrets): UpdatableLeg;
}

export interface LegFactoryOptions {
  /** The DTLS certificate of WebRTC legs; none: WebRTC sides are refused (488, 302). */
  readonly certificate?: DtlsCertificate;
  /** SDES-SRTP legs (default true). */
  readonly sdes?: boolean;
  /** performance.now() unless a test moves time. */
  readonly now?: () => number;
  readonly onFailure?: (reason: string) => void;
}

/**
 * RFC 8839 §5.4: ice-ufrag of 4 to 256 ice-chars and ice-pwd of 22 to 256 (ALPHA / DIGIT / "+" /
 * "/"): base64 of random bytes, a length that needs no padding.
 */
function iceCredentials(): { ufrag: string; pwd: string } {
  return { ufrag: randomBytes(6).toString('base64'), pwd: randomBytes(18).toString('base64') };
}

export function legFactory(options: LegFactoryOptions = {}): LegFactory {
  const now = options.now === undefined ? {} : { now: options.now };
  const rtp: ProfileLegs = {
    secrets: () => ({}),
    create: (ports, local, remote) => createRtpLeg({ rtpSocket: ports.rtp, rtcpSocket: ports.rtcp, local, remote, ...now }),
  };
  const sdes: ProfileLegs = {
    // RFC 4568 §7.1.2: the answerer picks one of the offered a=crypto lines and answers with its
    // tag and suite and a key of its own
    secrets: (_local, answering) => {
      if (answering === undefined) return { crypto: [newSdesCrypto()] };
      const chosen = (answering.crypto ?? []).find((c) => isAesCmSuite(c.suite) && chooseRemoteCrypto([c], c.suite) !== undefined);
      return chosen === undefined || !isAesCmSuite(chosen.suite) ? { crypto: [newSdesCrypto()] } : { crypto: [newSdesCrypto(chosen.suite, chosen.tag)] };
    },
    create: (ports, local, remote, secrets) =>
      createSdesLeg({ rtpSocket: ports.rtp, ...(ports.rtcp === undefined ? {} : { rtcpSocket: ports.rtcp }), local, localKey: secrets.crypto![0]!, remote, ...now }),
  };
  const certificate = options.certificate;
  const webrtc: ProfileLegs | undefined =
    certificate === undefined
      ? undefined
      : {
          // RFC 5763 §5: the answerer to an actpass offer "MUST use ... 'a=setup:active' or 'a=setup:passive'":
          // passive, so that the browser is the DTLS client; an offer of Parley's says actpass
          secrets: (_local, answering) => ({
            ice: { ...iceCredentials(), candidates: [], lite: true },
            dtls: { setup: answering === undefined ? 'actpass' : answering.dtls?.setup === 'passive' ? 'active' : 'passive', fingerprints: [certificate.fingerprint] },
          }),
          create: (ports, local, remote, secrets) => {
            const leg = createWebRtcLeg({
              socket: ports.rtp,
              local,
              ice: { ufrag: secrets.ice!.ufrag, pwd: secrets.ice!.pwd },
              certificate,
              remote,
              ...now,
              ...(options.onFailure === undefined ? {} : { onFailure: options.onFailure }),
            });
            return Object.assign(leg, { restartIce: (r: RemoteSide, ice: { readonly ufrag: string; readonly pwd: string }) => leg.update(r, ice) });
          },
        };
  const byProfile: Partial<Record<MediaProfile, ProfileLegs>> = { rtp, ...(options.sdes === false ? {} : { sdes }), ...(webrtc === undefined ? {} : { webrtc }) };
  const of = (profile: MediaProfile): ProfileLegs => {
    const legs = byProfile[profile];
    if (legs === undefined) throw new Error(`no legs of profile ${profile}`);
    return legs;
  };
  return {
    supports: (profile) => byProfile[profile] !== undefined,
    secrets: (profile, local, answering) => of(profile).secrets(local, answering),
    create: (profile, ports, local, remote, secrets) => of(profile).create(ports, local, remote, secrets),
  };
}
