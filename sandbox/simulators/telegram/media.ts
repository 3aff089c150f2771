import sharp from 'sharp';
import { Digester, digestBuffer, type Digested } from '../shared/digest.js';
import { probeMp4 } from '../shared/mp4.js';
import type { BotContext } from './context.js';
import { badRequest } from './errors.js';
import type { FileKind, FileStore, StoredFile } from './file-store.js';
import type { Params } from './params.js';
import type { TgPhotoSize } from './types.js';

const MB = 1024 * 1024;
/** Largest file Telegram fetches from a URL, per kind. */
const URL_LIMIT: Record<'video' | 'photo' | 'document', number> = { video: 20 * MB, photo: 5 * MB, document: 20 * MB };
/** Largest photo accepted as a multipart upload (other kinds: the 50 MB request limit). */
const PHOTO_UPLOAD_LIMIT = 10 * MB;
/** Longest side of each size Telegram generates for a photo. */
const PHOTO_SIDES = [90, 320, 800, 1280, 2560];

/** New content for a media send, or a file Telegram already has. */
export type InputContent =
  | { existing: StoredFile }
  | { existing?: undefined; content: Digested; head: Buffer; filename?: string; mimetype?: string };

/**
 * Resolves an InputFile parameter the three ways the Bot API accepts it: a
 * multipart upload (`attach://name`), an HTTP URL Telegram downloads itself, or
 * the `file_id` of a file it already has.
 */
export async function resolveInput(params: Params, field: 'video' | 'photo' | 'document', ctx: BotContext): Promise<InputContent> {
  const upload = params.upload(field);
  if (upload) {
    if (upload.size === 0) throw badRequest('file must be non-empty');
    if (field === 'photo' && upload.size > PHOTO_UPLOAD_LIMIT) throw badRequest('file is too big');
    return { content: upload, head: upload.head, filename: upload.filename, mimetype: upload.mimetype };
  }
  const value = params.string(field)?.trim();
  if (!value) throw badRequest(`there is no ${field} in the request`);
  if (value.startsWith('attach://')) throw badRequest('wrong file identifier/HTTP URL specified');
  if (/^https?:\/\//i.test(value)) return fetchUrl(value, field, ctx);

  const existing = ctx.files.byId(value);
  if (!existing) throw badRequest('wrong file identifier/HTTP URL specified');
  const compatible = field === 'document' || existing.kind === field || (field === 'video' && existing.kind === 'animation');
  if (!compatible) throw badRequest(`can't use file of type ${title(existing.kind)} as ${title(field)}`);
  return { existing };
}

async function fetchUrl(url: string, field: 'video' | 'photo' | 'document', ctx: BotContext): Promise<InputContent> {
  const limit = URL_LIMIT[field];
  // Aborting (not just cancelling the body) closes the socket, so a refused
  // download does not leave the remote server writing into a stalled connection.
  const abandon = new AbortController();
  const signal = AbortSignal.any([abandon.signal, ctx.stopped, AbortSignal.timeout(ctx.urlFetchTimeoutMs)]);
  const refuse = (description: string): never => {
    abandon.abort();
    throw badRequest(description);
  };
  let res: Response;
  try {
    res = await fetch(url, { signal, redirect: 'follow' });
  } catch {
    return refuse('wrong file identifier/HTTP URL specified');
  }
  const failed = 'failed to get HTTP URL content';
  if (!res.ok || !res.body) return refuse(failed);
  const type = (res.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (!acceptsType(field, type)) return refuse('wrong type of the web page content');
  if (Number(res.headers.get('content-length') ?? 0) > limit) return refuse(failed);
  const digester = new Digester(limit);
  try {
    for await (const chunk of res.body) {
      digester.update(chunk);
      if (digester.size > limit) break;
    }
  } catch {
    return refuse(failed);
  }
  if (digester.size > limit) return refuse(failed);
  const filename = decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '') || undefined;
  return { content: digester.done(), head: digester.head(), filename, mimetype: type || undefined };
}

function acceptsType(field: 'video' | 'photo' | 'document', type: string): boolean {
  if (type === '' || type === 'application/octet-stream' || type === 'binary/octet-stream') return true;
  if (field === 'video') return type.startsWith('video/');
  if (field === 'photo') return type.startsWith('image/');
  return true;
}

/**
 * Stores sent video content: as a `video` when it looks like MP4 (Telegram reads
 * duration and size from the container, unless the request gives them), and as a
 * `document` otherwise, which is what Telegram does with other formats.
 */
export function storeVideo(input: InputContent, params: Params, files: FileStore): StoredFile {
  if (input.existing) return input.existing;
  const probe = probeMp4(input.head);
  const looksMp4 = probe !== undefined || input.mimetype === 'video/mp4' || /\.mp4$/i.test(input.filename ?? '');
  const kind: FileKind = looksMp4 ? 'video' : 'document';
  const invalid = (): ReturnType<typeof badRequest> => badRequest('wrong video dimensions or duration');
  return files.put(input.content, {
    kind,
    mime_type: looksMp4 ? 'video/mp4' : (input.mimetype ?? 'application/octet-stream'),
    file_name: input.filename,
    ...(kind === 'video'
      ? {
          duration: params.int('duration', invalid) ?? probe?.durationSeconds ?? 0,
          width: params.int('width', invalid) ?? probe?.width ?? 0,
          height: params.int('height', invalid) ?? probe?.height ?? 0,
        }
      : {}),
  });
}

export function storeDocument(input: InputContent, files: FileStore): StoredFile {
  if (input.existing) return input.existing;
  return files.put(input.content, {
    kind: 'document',
    mime_type: input.mimetype ?? 'application/octet-stream',
    file_name: input.filename ?? 'document',
  });
}

/**
 * Stores a photo the way Telegram does: re-encoded JPEGs at several sizes,
 * returned smallest first. Content that is not an image fails like Telegram's
 * `IMAGE_PROCESS_FAILED`.
 */
export async function storePhoto(input: InputContent, ctx: BotContext): Promise<TgPhotoSize[]> {
  if (input.existing) {
    return ctx.photoSets.get(input.existing.file_id) ?? [photoSize(input.existing)];
  }
  const bytes = input.content.bytes;
  if (!bytes) throw badRequest('IMAGE_PROCESS_FAILED');
  return registerPhotoSizes(bytes, ctx);
}

/** Registers every size of a JPEG/PNG/WebP image and returns the PhotoSize array. */
export async function registerPhotoSizes(bytes: Buffer, ctx: Pick<BotContext, 'files' | 'photoSets'>): Promise<TgPhotoSize[]> {
  let width: number;
  let height: number;
  try {
    const meta = await sharp(bytes).metadata();
    width = meta.width ?? 0;
    height = meta.height ?? 0;
  } catch {
    throw badRequest('IMAGE_PROCESS_FAILED');
  }
  if (width === 0 || height === 0 || width + height > 10000 || Math.max(width, height) / Math.min(width, height) > 20) {
    throw badRequest('PHOTO_INVALID_DIMENSIONS');
  }
  const longest = Math.max(width, height);
  const sizes: TgPhotoSize[] = [];
  for (const side of PHOTO_SIDES) {
    const last = side >= longest;
    const encoded =
      last && longest <= 2560 && isJpeg(bytes)
        ? { data: bytes, info: { width, height } }
        : await sharp(bytes)
            .resize({ width: Math.min(side, longest), height: Math.min(side, longest), fit: 'inside' })
            .jpeg({ quality: 87 })
            .toBuffer({ resolveWithObject: true });
    const file = ctx.files.put(digestBuffer(encoded.data), {
      kind: 'photo',
      mime_type: 'image/jpeg',
      width: encoded.info.width,
      height: encoded.info.height,
    });
    sizes.push(photoSize(file));
    if (last) break;
  }
  for (const size of sizes) ctx.photoSets.set(size.file_id, sizes);
  return sizes;
}

function photoSize(file: StoredFile): TgPhotoSize {
  return {
    file_id: file.file_id,
    file_unique_id: file.file_unique_id,
    file_size: file.file_size,
    width: file.width ?? 0,
    height: file.height ?? 0,
  };
}

function isJpeg(bytes: Buffer): boolean {
  return bytes[0] === 0xff && bytes[1] === 0xd8;
}

function title(kind: string): string {
  return kind.charAt(0).toUpperCase() + kind.slice(1);
}
