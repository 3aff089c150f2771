/**
 * Which pictures Telewan turns into videos, told from their bytes. Pure: the
 * bot refuses a document by its declared type before anything starts, and the
 * activities check the bytes themselves before decoding.
 */

/** The image formats accepted, as MIME types: what WaveSpeed's models take and sharp decodes safely. */
export const ACCEPTED_IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp'] as const;
export type AcceptedImageType = (typeof ACCEPTED_IMAGE_TYPES)[number];
/** The accepted formats as users know them. */
export const ACCEPTED_IMAGE_NAMES = 'JPEG, PNG or WebP';

/**
 * Largest input decoded, in pixels (width × height). 40 MP covers every phone
 * camera and keeps one decode to at most ~160 MB of memory; sharp's own default
 * is 268 MP. The output is at most 1024 px a side anyway.
 */
export const MAX_INPUT_PIXELS = 40_000_000;

/** Whether a document's declared MIME type is one of {@link ACCEPTED_IMAGE_TYPES}. */
export function isAcceptedImageMimeType(mimeType: string | undefined): mimeType is AcceptedImageType {
  return (ACCEPTED_IMAGE_TYPES as readonly string[]).includes(mimeType?.toLowerCase() ?? '');
}

const startsWith = (bytes: Uint8Array, signature: readonly number[], at = 0): boolean =>
  bytes.length >= at + signature.length && signature.every((b, i) => bytes[at + i] === b);
const ascii = (bytes: Uint8Array, from: number, to: number): string => String.fromCharCode(...bytes.subarray(from, to));

/** The accepted format the bytes are in, by their magic numbers; undefined for anything else. */
export function sniffImageType(bytes: Uint8Array): AcceptedImageType | undefined {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (bytes.length >= 12 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP') return 'image/webp';
  return undefined;
}

/** A name for what the bytes are, for telling the user why they were refused ("an SVG image", "a GIF", …). */
export function describeImageBytes(bytes: Uint8Array): string {
  const accepted = sniffImageType(bytes);
  if (accepted) return accepted === 'image/jpeg' ? 'a JPEG' : accepted === 'image/png' ? 'a PNG' : 'a WebP';
  if (bytes.length >= 6 && ascii(bytes, 0, 4) === 'GIF8') return 'a GIF';
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) return 'a TIFF';
  if (startsWith(bytes, [0x42, 0x4d])) return 'a BMP';
  if (bytes.length >= 12 && ascii(bytes, 4, 8) === 'ftyp') {
    const brand = ascii(bytes, 8, 12);
    if (/^avi[fs]$/.test(brand)) return 'an AVIF';
    if (/^(heic|heix|hevc|mif1|msf1)$/.test(brand)) return 'a HEIC';
  }
  if (startsWith(bytes, [0x25, 0x50, 0x44, 0x46])) return 'a PDF';
  const head = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, 1024)).replace(/^\uFEFF/, '').trimStart().toLowerCase();
  if (head.startsWith('<') && head.includes('<svg')) return 'an SVG image';
  return 'not an image format I know';
}

/** A declared MIME type, named for the user ("an SVG image", "a GIF", …). */
/** The format a MIME type names, as people call it (`image/heic` → `HEIC`), for a text in any language; undefined when unknown. */
export function imageFormatName(mimeType: string): string | undefined {
  const subtype = mimeType.toLowerCase().replace(/^image\//, '').split(/[;+]/)[0] ?? '';
  const known: Record<string, string> = { svg: 'SVG', gif: 'GIF', tiff: 'TIFF', bmp: 'BMP', heic: 'HEIC', heif: 'HEIC', avif: 'AVIF', 'x-icon': 'ICO', 'vnd.microsoft.icon': 'ICO' };
  return known[subtype];
}

export function describeImageMimeType(mimeType: string): string {
  const subtype = mimeType.toLowerCase().replace(/^image\//, '').split(/[;+]/)[0] ?? '';
  const known: Record<string, string> = { 'svg': 'an SVG image', 'gif': 'a GIF', 'tiff': 'a TIFF', 'bmp': 'a BMP', 'heic': 'a HEIC', 'heif': 'a HEIC', 'avif': 'an AVIF', 'x-icon': 'an icon', 'vnd.microsoft.icon': 'an icon' };
  return known[subtype] ?? `of type ${mimeType.slice(0, 40)}`;
}
