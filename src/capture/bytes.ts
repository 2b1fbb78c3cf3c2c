/**
 * A copy of b[from, to). Not `b.slice`: on a Node Buffer (what a file stream hands out, and so
 * every view of a capture record) `slice` is a view, and what the capture code keeps must outlive
 * the reader's next chunk.
 */
export function copyOf(b: Uint8Array, from: number, to: number = b.length): Uint8Array {
  return new Uint8Array(b.subarray(from, to));
}
