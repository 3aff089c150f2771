import { createHash, type Hash } from 'node:crypto';
import type { Readable } from 'node:stream';

/** Size and hashes of a body, and the body itself when it fitted in `keepUpTo` bytes. */
export interface Digested {
  size: number;
  sha256: string;
  md5: string;
  /** Absent when the body was larger than the caller wanted to keep. */
  bytes?: Buffer;
}

/**
 * Hashes a body chunk by chunk while it flows, keeping all of it only when it is
 * at most `keepUpTo` bytes (and its first MiB otherwise, to read headers), so a
 * 60 MB upload can be measured without being held.
 */
export class Digester {
  private static readonly HEAD_BYTES = 1024 * 1024;
  private readonly sha256: Hash = createHash('sha256');
  private readonly md5: Hash = createHash('md5');
  private chunks: Buffer[] = [];
  private kept = 0;
  size = 0;

  constructor(private readonly keepUpTo: number) {}

  update(chunk: Uint8Array): void {
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.size += buf.length;
    this.sha256.update(buf);
    this.md5.update(buf);
    if (this.size <= this.keepUpTo || this.kept < Digester.HEAD_BYTES) {
      this.chunks.push(Buffer.from(buf));
      this.kept += buf.length;
    }
    if (this.size > this.keepUpTo && this.kept > Digester.HEAD_BYTES) this.trimToHead();
  }

  /** The first bytes of the body (at least 1 MiB of it, or all of it when kept). */
  head(): Buffer {
    return Buffer.concat(this.chunks);
  }

  done(): Digested {
    const result: Digested = { size: this.size, sha256: this.sha256.digest('hex'), md5: this.md5.digest('hex') };
    if (this.size <= this.keepUpTo) result.bytes = Buffer.concat(this.chunks);
    return result;
  }

  private trimToHead(): void {
    const head = Buffer.concat(this.chunks).subarray(0, Digester.HEAD_BYTES);
    this.chunks = [head];
    this.kept = head.length;
  }
}

/** Digest of a buffer already in memory (kept whole). */
export function digestBuffer(bytes: Buffer): Digested {
  const d = new Digester(Infinity);
  d.update(bytes);
  return d.done();
}

/** Digest of a Node stream, read to its end. */
export async function digestStream(stream: Readable, keepUpTo: number): Promise<Digested> {
  const d = new Digester(keepUpTo);
  for await (const chunk of stream) d.update(chunk as Buffer);
  return d.done();
}
