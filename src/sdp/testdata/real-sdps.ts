/**
 * Session descriptions as real peers write them, for the parser's and the gateway's tests. Written
 * in the form each peer produces (line order, attributes, spacing); addresses, keys, ids and
 * fingerprints are examples. Lines end as each peer ends them (`crlf` joins with CRLF, `lf` with
 * bare LF: some phones send that).
 */
const crlf = (...lines: string[]): string => lines.join('\r\n') + '\r\n';
const lf = (...lines: string[]): string => lines.join('\n') + '\n';

/** Chromium's createOffer() with audio and video: BUNDLE, rtcp-mux, extmap, ssrc-group, msid. */
export const CHROMIUM_OFFER = crlf(
  'v=0',
  'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0 1',
  'a=extmap-allow-mixed',
  'a=msid-semantic: WMS 6c1b2f6e-4a4e-4f0a-9d2b-2c1d0e9f8a7b',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126',
  'c=IN IP4 0.0.0.0',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=candidate:1467250027 1 udp 2122260223 127.0.0.1 46243 typ host generation 0 network-id 1',
  'a=candidate:435653019 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active generation 0 network-id 1',
  'a=ice-ufrag:Xq7c',
  'a=ice-pwd:rPw2AqWo0H2o3dAd5oy1YtcV',
  'a=ice-options:trickle',
  'a=fingerprint:sha-256 8B:87:09:8A:5D:C2:F3:33:EF:C5:B1:F6:84:3A:3D:D6:A3:E2:9C:17:4C:E7:46:3B:1B:CE:84:98:DD:8E:AF:7B',
  'a=setup:actpass',
  'a=mid:0',
  'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
  'a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
  'a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid',
  'a=sendrecv',
  'a=msid:6c1b2f6e-4a4e-4f0a-9d2b-2c1d0e9f8a7b 0b6d6b86-35a5-4e8e-9d7c-5d3f7b0c1a2e',
  'a=rtcp-mux',
  'a=rtcp-rsize',
  'a=rtpmap:111 opus/48000/2',
  'a=rtcp-fb:111 transport-cc',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=rtpmap:63 red/48000/2',
  'a=fmtp:63 111/111',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:13 CN/8000',
  'a=rtpmap:110 telephone-event/48000',
  'a=rtpmap:126 telephone-event/8000',
  'a=ssrc:3735928559 cname:k3HcLpW0Q7v1Ry9d',
  'a=ssrc:3735928559 msid:6c1b2f6e-4a4e-4f0a-9d2b-2c1d0e9f8a7b 0b6d6b86-35a5-4e8e-9d7c-5d3f7b0c1a2e',
  'm=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103',
  'c=IN IP4 0.0.0.0',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=candidate:1467250027 1 udp 2122260223 127.0.0.1 46243 typ host generation 0 network-id 1',
  'a=ice-ufrag:Xq7c',
  'a=ice-pwd:rPw2AqWo0H2o3dAd5oy1YtcV',
  'a=ice-options:trickle',
  'a=fingerprint:sha-256 8B:87:09:8A:5D:C2:F3:33:EF:C5:B1:F6:84:3A:3D:D6:A3:E2:9C:17:4C:E7:46:3B:1B:CE:84:98:DD:8E:AF:7B',
  'a=setup:actpass',
  'a=mid:1',
  'a=extmap:14 urn:ietf:params:rtp-hdrext:toffset',
  'a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
  'a=extmap:13 urn:3gpp:video-orientation',
  'a=sendrecv',
  'a=msid:6c1b2f6e-4a4e-4f0a-9d2b-2c1d0e9f8a7b 9d2e4c1a-7b3f-4d6e-8a1c-2f5e7b9d0c3a',
  'a=rtcp-mux',
  'a=rtcp-rsize',
  'a=rtpmap:96 VP8/90000',
  'a=rtcp-fb:96 goog-remb',
  'a=rtcp-fb:96 transport-cc',
  'a=rtcp-fb:96 ccm fir',
  'a=rtcp-fb:96 nack',
  'a=rtcp-fb:96 nack pli',
  'a=rtpmap:97 rtx/90000',
  'a=fmtp:97 apt=96',
  'a=rtpmap:102 H264/90000',
  'a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f',
  'a=rtpmap:103 rtx/90000',
  'a=fmtp:103 apt=102',
  'a=ssrc-group:FID 2231627014 632943048',
  'a=ssrc:2231627014 cname:k3HcLpW0Q7v1Ry9d',
  'a=ssrc:2231627014 msid:6c1b2f6e-4a4e-4f0a-9d2b-2c1d0e9f8a7b 9d2e4c1a-7b3f-4d6e-8a1c-2f5e7b9d0c3a',
  'a=ssrc:632943048 cname:k3HcLpW0Q7v1Ry9d',
  'a=ssrc:632943048 msid:6c1b2f6e-4a4e-4f0a-9d2b-2c1d0e9f8a7b 9d2e4c1a-7b3f-4d6e-8a1c-2f5e7b9d0c3a',
);

/** Debian's baresip (1.x/3.x) calling over UDP with its default audio codecs. */
export const BARESIP_OFFER = crlf(
  'v=0',
  'o=- 1270476521 3591148633 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'a=tool:baresip 3.10.1',
  'm=audio 10390 RTP/AVP 96 0 8 9 101',
  'b=AS:96',
  'a=rtpmap:96 opus/48000/2',
  'a=fmtp:96 stereo=1;sprop-stereo=1',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-15',
  'a=rtcp-rsize',
  'a=sendrecv',
  'a=label:1',
  'a=ssrc:2718281828 cname:sip:bob@127.0.0.1',
  'a=rtcp-mux',
  'a=ptime:20',
);

/** sipp's built-in uac scenario (`sipp -sn uac`): PCMU only, the session in a 'user1' origin. */
export const SIPP_OFFER = crlf(
  'v=0',
  'o=user1 53655765 2353687637 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 6000 RTP/AVP 0',
  'a=rtpmap:0 PCMU/8000',
);

/** Linphone (liblinphone 5) with its codec list, RFC 3605 a=rtcp and a session-level c=; bare LF line ends. */
export const LINPHONE_OFFER = lf(
  'v=0',
  'o=alice 3216 1744 IN IP4 192.168.1.23',
  's=Talk',
  'c=IN IP4 192.168.1.23',
  't=0 0',
  'a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics',
  'a=record:off',
  'm=audio 7078 RTP/AVP 96 97 98 0 8 18 101 99 100',
  'a=rtpmap:96 opus/48000/2',
  'a=fmtp:96 useinbandfec=1',
  'a=rtpmap:97 speex/16000',
  'a=fmtp:97 vbr=on',
  'a=rtpmap:98 speex/8000',
  'a=fmtp:98 vbr=on',
  'a=fmtp:18 annexb=yes',
  'a=rtpmap:101 telephone-event/48000',
  'a=rtpmap:99 telephone-event/16000',
  'a=rtpmap:100 telephone-event/8000',
  'a=rtcp:7079',
  'a=rtcp-fb:* trr-int 1000',
  'a=rtcp-fb:* ccm tmmbr',
);

/** An SDES-SRTP offer (RFC 4568) as Linphone/Asterisk write it: two suites, one with lifetime and MKI. */
export const SDES_OFFER = crlf(
  'v=0',
  'o=- 1693416723 1693416723 IN IP4 10.0.0.5',
  's=Asterisk',
  'c=IN IP4 10.0.0.5',
  't=0 0',
  'm=audio 12000 RTP/SAVP 0 8 101',
  'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4',
  'a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-16',
  'a=ptime:20',
  'a=maxptime:150',
  'a=sendrecv',
);

/** An IPv6 offer (a phone on a v6 network), static payload types without rtpmap. */
export const IPV6_OFFER = crlf(
  'v=0',
  'o=- 8 8 IN IP6 2001:db8::15',
  's=call',
  't=0 0',
  'm=audio 49170 RTP/AVP 8 0 101',
  'c=IN IP6 2001:db8::15',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-15',
);

/** The old-style hold re-offer of RFC 3264 §8.4 (c=0.0.0.0) from a phone; the version moved on. */
export const HOLD_REOFFER_ZERO_ADDRESS = crlf(
  'v=0',
  'o=user1 53655765 2353687638 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 0.0.0.0',
  't=0 0',
  'm=audio 6000 RTP/AVP 0',
  'a=rtpmap:0 PCMU/8000',
);

/** A hold re-offer with a=sendonly (RFC 3264 §8.4), as baresip writes it. */
export const HOLD_REOFFER_SENDONLY = crlf(
  'v=0',
  'o=- 1270476521 3591148634 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 10390 RTP/AVP 0 101',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-15',
  'a=sendonly',
  'a=ptime:20',
);

export const REAL_SDPS: Record<string, string> = {
  CHROMIUM_OFFER,
  BARESIP_OFFER,
  SIPP_OFFER,
  LINPHONE_OFFER,
  SDES_OFFER,
  IPV6_OFFER,
  HOLD_REOFFER_ZERO_ADDRESS,
  HOLD_REOFFER_SENDONLY,
};
