// Is this test process inside a network namespace with only the loopback interface? The
// browser suites run only there (scripts/in-loopback-netns.mjs, entered by `npm run
// test:browser`), so that WebRTC's ICE sees nothing but 127.0.0.1 and nothing leaves the machine.
import { networkInterfaces } from 'node:os';

/** The interfaces that have an address. */
export function interfaceNames(): string[] {
  return Object.keys(networkInterfaces()).sort();
}

/**
 * Undefined when the suites may run: every interface is `lo`. A skip reason when no namespace
 * could be made on this machine (the runner said so); otherwise an Error: the suite was started
 * outside the namespace by mistake, and running it would let Chromium use the real network.
 */
export function loopbackOnly(): { run: true } | { run: false; skip: string } {
  const names = interfaceNames();
  if (names.length === 1 && names[0] === 'lo') return { run: true };
  const unavailable = process.env.PARLEY_NETNS_UNAVAILABLE;
  if (unavailable) return { run: false, skip: `browser suites need a loopback-only network namespace: ${unavailable}` };
  throw new Error(`this process sees the interfaces ${names.join(', ')}: run the browser suites with "npm run test:browser", which starts them in a network namespace with only lo (scripts/in-loopback-netns.mjs)`);
}
