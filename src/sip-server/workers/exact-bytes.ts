/**
 * The bytes of a view in an ArrayBuffer of their own. postMessage clones a typed array's whole
 * buffer, and Node's Buffers often are small views into a shared 8 KiB pool (and datagrams into
 * a 64 KiB receive buffer): those are copied first, so that only the message crosses threads.
 */
export function exactBytes(bytes: Uint8Array): Uint8Array {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return bytes;
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy;
}
