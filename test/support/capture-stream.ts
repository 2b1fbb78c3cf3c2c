import { Writable } from 'node:stream';

/** A writable stream that keeps what is written to it as text (a command's stdout or stderr in a test). */
export class CaptureStream extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString('utf8');
    callback();
  }
}
