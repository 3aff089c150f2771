import { Readable } from 'node:stream';

/** What a video's container header says about it. */
export interface Mp4Info {
  durationSeconds: number;
  width: number;
  height: number;
}

const TIMESCALE = 1000;
const IDENTITY_MATRIX = [0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000];

function box(type: string, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + payload.length, 0);
  header.write(type, 4, 'latin1');
  return Buffer.concat([header, payload]);
}

function matrix(): Buffer {
  const b = Buffer.alloc(36);
  IDENTITY_MATRIX.forEach((v, i) => b.writeUInt32BE(v, i * 4));
  return b;
}

/**
 * The boxes in front of the media data of a minimal MP4: `ftyp`, then `moov` with
 * an `mvhd` (duration) and one video `trak`/`tkhd` (width, height). Enough for
 * {@link probeMp4} and for tools that only read the header; not playable.
 */
export function mp4Header(info: Mp4Info): Buffer {
  const ftyp = box('ftyp', Buffer.from('isom\0\0\x02\0isomiso2avc1mp41', 'latin1'));
  const duration = Math.round(info.durationSeconds * TIMESCALE);

  const mvhd = Buffer.alloc(100);
  mvhd.writeUInt32BE(TIMESCALE, 12);
  mvhd.writeUInt32BE(duration, 16);
  mvhd.writeUInt32BE(0x00010000, 20); // rate 1.0
  mvhd.writeUInt16BE(0x0100, 24); // volume 1.0
  matrix().copy(mvhd, 36);
  mvhd.writeUInt32BE(2, 96); // next track id

  const tkhd = Buffer.alloc(84);
  tkhd.writeUInt32BE(0x00000003, 0); // enabled, in movie
  tkhd.writeUInt32BE(1, 12); // track id
  tkhd.writeUInt32BE(duration, 20);
  matrix().copy(tkhd, 40);
  tkhd.writeUInt32BE(info.width * 0x10000, 76);
  tkhd.writeUInt32BE(info.height * 0x10000, 80);

  const moov = box('moov', Buffer.concat([box('mvhd', mvhd), box('trak', box('tkhd', tkhd))]));
  return Buffer.concat([ftyp, moov]);
}

/**
 * A deterministic MP4 of exactly `totalBytes` (at least the header size), streamed
 * in chunks so that files of hundreds of megabytes never sit in memory. The
 * filler bytes depend on `seed`, so two outputs differ in content and hash.
 */
export function mp4Stream(info: Mp4Info, totalBytes: number, seed: string): Readable {
  const header = mp4Header(info);
  const total = mp4Size(info, totalBytes);
  const mdatHeader = Buffer.alloc(8);
  mdatHeader.writeUInt32BE(Math.min(total - header.length, 0xffffffff), 0);
  mdatHeader.write('mdat', 4, 'latin1');

  const chunk = Buffer.alloc(64 * 1024);
  const pattern = Buffer.from(`${seed}:telewan-simulated-video-frame-data;`);
  for (let i = 0; i < chunk.length; i++) chunk[i] = pattern[i % pattern.length] ?? 0;

  function* pieces(): Generator<Buffer> {
    yield Buffer.concat([header, mdatHeader]);
    let left = total - header.length - 8;
    while (left > 0) {
      const n = Math.min(left, chunk.length);
      yield n === chunk.length ? chunk : chunk.subarray(0, n);
      left -= n;
    }
  }
  return Readable.from(pieces(), { objectMode: false });
}

/** The exact length of what {@link mp4Stream} produces for these arguments. */
export function mp4Size(info: Mp4Info, totalBytes: number): number {
  return Math.max(totalBytes, mp4Header(info).length + 8);
}

/** Reads duration and frame size from the `moov` box if it is near the start. */
export function probeMp4(bytes: Buffer): Mp4Info | undefined {
  const moov = findBox(bytes, 0, bytes.length, 'moov');
  if (!moov) return undefined;
  const mvhd = findBox(bytes, moov.start, moov.end, 'mvhd');
  const trak = findBox(bytes, moov.start, moov.end, 'trak');
  const tkhd = trak && findBox(bytes, trak.start, trak.end, 'tkhd');
  if (!mvhd || !tkhd) return undefined;
  const v1 = bytes[mvhd.start] === 1;
  const timescale = bytes.readUInt32BE(mvhd.start + (v1 ? 20 : 12));
  const duration = v1 ? Number(bytes.readBigUInt64BE(mvhd.start + 24)) : bytes.readUInt32BE(mvhd.start + 16);
  const t1 = bytes[tkhd.start] === 1;
  const dims = tkhd.start + (t1 ? 88 : 76);
  if (dims + 8 > tkhd.end || timescale === 0) return undefined;
  return {
    durationSeconds: Math.round(duration / timescale),
    width: Math.round(bytes.readUInt32BE(dims) / 0x10000),
    height: Math.round(bytes.readUInt32BE(dims + 4) / 0x10000),
  };
}

function findBox(bytes: Buffer, from: number, to: number, type: string): { start: number; end: number } | undefined {
  let at = from;
  while (at + 8 <= to) {
    let size = bytes.readUInt32BE(at);
    let headerSize = 8;
    if (size === 1 && at + 16 <= to) {
      size = Number(bytes.readBigUInt64BE(at + 8));
      headerSize = 16;
    } else if (size === 0) {
      size = to - at;
    }
    if (size < headerSize) return undefined;
    if (bytes.toString('latin1', at + 4, at + 8) === type) {
      return { start: at + headerSize, end: Math.min(at + size, to) };
    }
    at += size;
  }
  return undefined;
}
