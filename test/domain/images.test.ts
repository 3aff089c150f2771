import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { describeImageBytes, describeImageMimeType, isAcceptedImageMimeType, sniffImageType } from '../../src/domain/images.js';

const solid = () => sharp({ create: { width: 8, height: 8, channels: 3, background: '#123456' } });

describe('telling pictures by their bytes', () => {
  it('recognises JPEG, PNG and WebP', async () => {
    expect(sniffImageType(await solid().jpeg().toBuffer())).toBe('image/jpeg');
    expect(sniffImageType(await solid().png().toBuffer())).toBe('image/png');
    expect(sniffImageType(await solid().webp().toBuffer())).toBe('image/webp');
  });

  it('refuses everything else, naming it', async () => {
    const cases: Array<[Buffer, string]> = [
      [await solid().gif().toBuffer(), 'a GIF'],
      [await solid().tiff().toBuffer(), 'a TIFF'],
      [Buffer.from('\uFEFF  <?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>'), 'an SVG image'],
      [Buffer.from('%PDF-1.7'), 'a PDF'],
      [Buffer.from([0, 0, 0, 24, ...Buffer.from('ftypheic'), 0, 0, 0, 0]), 'a HEIC'],
      [Buffer.from('hello'), 'not an image format I know'],
      [Buffer.alloc(0), 'not an image format I know'],
      [Buffer.from([0xff, 0xd8]), 'not an image format I know'],
    ];
    for (const [bytes, name] of cases) {
      expect(sniffImageType(bytes)).toBeUndefined();
      expect(describeImageBytes(bytes)).toBe(name);
    }
  });

  it('accepts documents declared JPEG, PNG or WebP only', () => {
    expect(['image/jpeg', 'IMAGE/PNG', 'image/webp'].every((t) => isAcceptedImageMimeType(t))).toBe(true);
    expect(['image/svg+xml', 'image/gif', 'image/heic', 'image/jpg2', undefined].some((t) => isAcceptedImageMimeType(t))).toBe(false);
    expect(describeImageMimeType('image/svg+xml')).toBe('an SVG image');
    expect(describeImageMimeType('image/x-fancy')).toBe('of type image/x-fancy');
  });
});
