/**
 * One DataView per buffer the reader is handed: the formats read their headers through it, and
 * the reader hands them the same chunk buffer step after step, so the view is made once per buffer.
 */
export class DataViewCache {
  private buf: Uint8Array | undefined;
  private view: DataView | undefined;

  of(buf: Uint8Array): DataView {
    if (this.buf !== buf || this.view === undefined) {
      this.buf = buf;
      this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    return this.view;
  }
}
