import type { FastifyRequest } from 'fastify';
import { Digester, type Digested } from '../shared/digest.js';
import { badRequest, TelegramApiError } from './errors.js';

/** Telegram refuses multipart requests whose file exceeds this. */
export const MAX_UPLOAD_BYTES = 50 * 1024 * 1024;
/** Uploaded files are kept in memory up to this size (the `getFile` download limit). */
export const MAX_KEPT_UPLOAD_BYTES = 20 * 1024 * 1024;

/** A file part of a multipart request, measured and hashed as it streamed in. */
export interface UploadedFile extends Digested {
  fieldname: string;
  filename: string;
  mimetype: string;
  /** The first bytes, for reading a container header even when `bytes` was not kept. */
  head: Buffer;
}

/**
 * The parameters of one Bot API call, whatever the encoding it came in (query
 * string, JSON, urlencoded or multipart, where every value is a string and
 * objects arrive JSON-encoded). Getters coerce like the Bot API does.
 */
export class Params {
  constructor(
    private readonly raw: Record<string, unknown>,
    readonly uploads: ReadonlyMap<string, UploadedFile> = new Map(),
  ) {}

  has(name: string): boolean {
    const v = this.raw[name];
    return v !== undefined && v !== null && v !== '';
  }

  string(name: string): string | undefined {
    const v = this.raw[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    return JSON.stringify(v);
  }

  int(name: string, whenInvalid: () => TelegramApiError): number | undefined {
    const v = this.raw[name];
    if (v === undefined || v === null || v === '') return undefined;
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n)) throw whenInvalid();
    return n;
  }

  bool(name: string): boolean {
    const v = this.raw[name];
    return v === true || v === 'true' || v === '1' || v === 1;
  }

  /** An object parameter, given as an object (JSON body) or as a JSON string. */
  json(name: string, whenInvalid: () => TelegramApiError): unknown {
    const v = this.raw[name];
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string') return v;
    try {
      return JSON.parse(v) as unknown;
    } catch {
      throw whenInvalid();
    }
  }

  /** `chat_id` (or another chat parameter): a number, or an `@username` string. */
  chatId(name = 'chat_id'): number | string {
    const v = this.raw[name];
    if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
    if (typeof v === 'string') {
      const s = v.trim();
      if (/^-?\d+$/.test(s)) return Number(s);
      if (/^@\w{4,}$/.test(s)) return s;
      if (s !== '') throw badRequest('chat not found');
    }
    throw badRequest(`${name} is empty`);
  }

  /** The upload an `attach://<name>` value (or a file part named like the parameter) points at. */
  upload(name: string): UploadedFile | undefined {
    const v = this.raw[name];
    if (typeof v === 'string' && v.startsWith('attach://')) return this.uploads.get(v.slice('attach://'.length));
    return v === undefined ? this.uploads.get(name) : undefined;
  }

  /** A JSON-safe copy for the call log: uploads appear as `{ filename, size, md5 }`. */
  toRecord(): Record<string, unknown> {
    const record: Record<string, unknown> = { ...this.raw };
    for (const [name, file] of this.uploads) {
      record[name] = { filename: file.filename, mimetype: file.mimetype, size: file.size, md5: file.md5 };
    }
    return record;
  }
}

/** Reads a request's parameters from its query string and body. */
export async function readParams(request: FastifyRequest): Promise<Params> {
  const query = isRecord(request.query) ? request.query : {};
  if (!request.isMultipart()) {
    const body = isRecord(request.body) ? request.body : {};
    return new Params({ ...query, ...body });
  }
  const fields: Record<string, unknown> = { ...query };
  const uploads = new Map<string, UploadedFile>();
  let tooLarge = false;
  for await (const part of request.parts()) {
    if (part.type === 'field') {
      fields[part.fieldname] = part.value;
      continue;
    }
    const digester = new Digester(MAX_KEPT_UPLOAD_BYTES);
    for await (const chunk of part.file) digester.update(chunk as Buffer);
    if (part.file.truncated || digester.size > MAX_UPLOAD_BYTES) tooLarge = true;
    uploads.set(part.fieldname, {
      ...digester.done(),
      head: digester.head(),
      fieldname: part.fieldname,
      filename: part.filename,
      mimetype: part.mimetype,
    });
  }
  if (tooLarge) throw new TelegramApiError(413, 'Request Entity Too Large');
  return new Params(fields, uploads);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
