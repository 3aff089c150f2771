import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { ACCEPTED_IMAGE_NAMES, describeImageBytes, MAX_INPUT_PIXELS, sniffImageType } from '../domain/images.js';
import { InvalidImageError } from '../errors.js';
import type { TelegramClient } from '../integrations/telegram/client.js';

/** The longest side of the image sent to WaveSpeed. */
const MAX_SIDE = 1024;
const JPEG_QUALITY = 85;
const SHARP_FORMATS: Readonly<Record<string, string>> = { 'image/jpeg': 'jpeg', 'image/png': 'png', 'image/webp': 'webp' };

/**
 * How the worker's image decoder runs: no operation cache (each photo is decoded
 * once, so libvips's 50 MB cache only held dead pixels in the worker's RSS) and
 * one libvips thread an image (the transfer queue already resizes several photos
 * at once; more threads each kept their own malloc arena). Called once by the
 * worker at start.
 */
export function configureImageDecoder(): void {
  sharp.cache(false);
  sharp.concurrency(1);
}

/** A user's picture as WaveSpeed gets it, and the MD5 the result cache keys it by. */
export interface NormalisedImage {
  jpeg: Buffer;
  md5: string;
  width: number;
  height: number;
}

/**
 * Normalises a photo for WaveSpeed: EXIF-rotated, longest side ≤ 1024 px, JPEG
 * q85. Only JPEG, PNG and WebP bytes are decoded (told by their magic numbers,
 * whatever the sender declared), and only up to `maxPixels`: the header is read
 * first, so a refused picture is never decoded. Throws {@link InvalidImageError}
 * saying why.
 */
export async function normaliseImage(input: Buffer, maxPixels: number = MAX_INPUT_PIXELS): Promise<NormalisedImage> {
  const type = sniffImageType(input);
  if (!type) {
    throw new InvalidImageError(`it is ${describeImageBytes(input)}; only ${ACCEPTED_IMAGE_NAMES} pictures can be used`, 'unsupported-type');
  }
  try {
    // The header alone, without the pixel limit (sharp would refuse with no sizes to tell): nothing is decoded yet.
    const meta = await sharp(input, { limitInputPixels: false }).metadata();
    const { width, height } = meta;
    if (meta.format !== SHARP_FORMATS[type]) throw new InvalidImageError(`its header says ${meta.format}, its bytes ${type}`);
    if (width * height > maxPixels) {
      const mp = (n: number) => Math.round(n / 1_000_000);
      throw new InvalidImageError(`it is ${width}×${height} pixels (${mp(width * height)} MP); the limit is ${mp(maxPixels)} MP`, 'too-many-pixels');
    }
    const { data, info } = await sharp(input, { failOn: 'error', limitInputPixels: maxPixels, sequentialRead: true })
      .rotate()
      .resize({ width: MAX_SIDE, height: MAX_SIDE, fit: 'inside', withoutEnlargement: true })
      .jpeg({ quality: JPEG_QUALITY, mozjpeg: false })
      .toBuffer({ resolveWithObject: true });
    return { jpeg: data, md5: createHash('md5').update(data).digest('hex'), width: info.width, height: info.height };
  } catch (err) {
    if (err instanceof InvalidImageError) throw err;
    throw new InvalidImageError(err instanceof Error ? err.message : String(err));
  }
}

export interface UserImagesOptions {
  /** Normalised images kept (≤ ~300 KB each). Default 32. */
  capacity?: number;
  /** How long one is kept. Default 15 minutes, the activities' schedule-to-close. */
  ttlMs?: number;
}

/**
 * Users' pictures by Telegram file id, downloaded and normalised once per
 * worker: `fingerprintImage` and `prepareImage` are separate activities of one
 * request, and the second, when it runs on the same worker, reuses the first's
 * result instead of downloading and decoding the photo again. Concurrent asks
 * for one file share the work. A file id always names the same bytes, so a
 * kept result is never stale; the memory is bounded by `capacity` and `ttlMs`.
 */
export class UserImages {
  /** Downloads and decodes started, for tests and metrics. */
  decodes = 0;
  private readonly kept = new Map<string, { image: Promise<NormalisedImage>; at: number }>();
  private readonly capacity: number;
  private readonly ttlMs: number;

  constructor(
    private readonly telegram: Pick<TelegramClient, 'downloadFile'>,
    options: UserImagesOptions = {},
  ) {
    this.capacity = options.capacity ?? 32;
    this.ttlMs = options.ttlMs ?? 15 * 60 * 1000;
  }

  /** The normalised picture of `fileId`, downloading and decoding it only when not kept. */
  normalised(fileId: string): Promise<NormalisedImage> {
    const now = Date.now();
    const entry = this.kept.get(fileId);
    if (entry && now - entry.at < this.ttlMs) return entry.image;
    this.kept.delete(fileId);
    this.decodes += 1;
    const image = this.telegram.downloadFile(fileId).then((bytes) => normaliseImage(bytes));
    // A failure is not kept: the activity's retry (or the user's next try) starts afresh.
    image.catch(() => {
      if (this.kept.get(fileId)?.image === image) this.kept.delete(fileId);
    });
    this.kept.set(fileId, { image, at: now });
    for (const [key, { at }] of this.kept) {
      if (this.kept.size <= this.capacity && now - at < this.ttlMs) break;
      this.kept.delete(key);
    }
    return image;
  }
}
