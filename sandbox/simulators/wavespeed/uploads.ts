import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { digestBuffer } from '../shared/digest.js';
import { WavespeedApiError } from './models.js';
import type { MediaUpload } from './types.js';

/** WaveSpeed keeps inputs of at most 20 MB. */
export const MAX_TICKET_UPLOAD_BYTES = 20 * 1024 * 1024;
/** How long a presigned PUT URL stays valid. */
const TICKET_TTL_MS = 60 * 60 * 1000;

/** A ticket of `POST /api/v3/media/uploads`, waiting for its PUT (or done). */
interface Ticket {
  id: string;
  filename: string;
  size: number;
  contentType?: string;
  expiresAt: number;
}

/** What the ticket routes share with the rest of the simulator. */
export interface UploadTicketDeps {
  uploads: MediaUpload[];
  baseUrl: () => string;
  /** Counts a stored upload (`stats.uploads`). */
  counted: () => void;
  /** Whether `POST /api/v3/media/uploads` exists; off, it answers 404 like an older WaveSpeed. */
  enabled: () => boolean;
}

/** Keeps only characters safe in a URL path segment, as the binary endpoint does. */
export function safeFilename(name: string): string {
  return (name.split(/[\\/]/).pop() ?? '').replace(/[^A-Za-z0-9._-]/g, '_') || 'upload.bin';
}

/** `image`, `video`, `audio` or `file`, from a MIME type or the file name. */
export function mediaType(mimetype: string, filename: string): MediaUpload['type'] {
  if (mimetype.startsWith('image/') || /\.(jpe?g|png|webp|gif|bmp)$/i.test(filename)) return 'image';
  if (mimetype.startsWith('video/') || /\.(mp4|mov|webm)$/i.test(filename)) return 'video';
  if (mimetype.startsWith('audio/') || /\.(mp3|wav|ogg|m4a)$/i.test(filename)) return 'audio';
  return 'file';
}

const TicketBody = {
  type: 'object',
  required: ['filename', 'size'],
  properties: {
    filename: { type: 'string', minLength: 1, maxLength: 255 },
    size: { type: 'integer', minimum: 1 },
    content_type: { type: 'string', maxLength: 255 },
  },
} as const;

/**
 * WaveSpeed's current upload flow, as its official SDKs drive it:
 * `POST /api/v3/media/uploads` with `{ filename, size, content_type? }` answers a
 * ticket, `{ download_url, upload: { url, method: "PUT", headers } }`; a PUT of
 * the bytes to that presigned URL (no bearer token: the URL is the credential,
 * like a cloud storage bucket's) stores them, and `download_url` serves them from
 * then on. The declared size must match, and inputs are at most 20 MB.
 */
export async function uploadTicketRoutes(app: FastifyInstance, deps: UploadTicketDeps): Promise<void> {
  const tickets = new Map<string, Ticket>();
  const signingKey = randomBytes(32);
  const signature = (id: string, expires: number) => createHmac('sha256', signingKey).update(`${id}.${expires}`).digest('hex');

  app.post<{ Body: { filename: string; size: number; content_type?: string } }>('/api/v3/media/uploads', { schema: { body: TicketBody } }, async (request) => {
    if (!deps.enabled()) throw new WavespeedApiError(404, 'not found');
    const { filename, size, content_type: contentType } = request.body;
    if (size > MAX_TICKET_UPLOAD_BYTES) throw new WavespeedApiError(413, `file too large: at most ${MAX_TICKET_UPLOAD_BYTES / 1024 / 1024} MB`);
    const id = randomUUID().replace(/-/g, '');
    const ticket: Ticket = { id, filename: safeFilename(filename), size, expiresAt: Date.now() + TICKET_TTL_MS, ...(contentType ? { contentType } : {}) };
    tickets.set(id, ticket);
    const expires = Math.floor(ticket.expiresAt / 1000);
    return {
      code: 200,
      message: 'success',
      data: {
        id,
        filename: ticket.filename,
        size,
        download_url: `${deps.baseUrl()}/media/${id}/${encodeURIComponent(ticket.filename)}`,
        upload: {
          url: `${deps.baseUrl()}/upload-tickets/${id}?expires=${expires}&signature=${signature(id, expires)}`,
          method: 'PUT',
          headers: contentType ? { 'Content-Type': contentType } : {},
        },
        expires_at: new Date(ticket.expiresAt).toISOString(),
      },
    };
  });

  // The PUT takes raw bytes of any type, so its scope reads every body as a buffer.
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_TICKET_UPLOAD_BYTES }, (_req, body, done) => done(null, body));
    scope.put<{ Params: { id: string }; Querystring: { expires?: string; signature?: string } }>(
      '/upload-tickets/:id',
      { bodyLimit: MAX_TICKET_UPLOAD_BYTES },
      async (request, reply) => {
        const ticket = tickets.get(request.params.id);
        const { expires, signature: given } = request.query;
        const expected = ticket && expires ? Buffer.from(signature(ticket.id, Number(expires))) : undefined;
        const valid = expected !== undefined && typeof given === 'string' && given.length === expected.length && timingSafeEqual(Buffer.from(given), expected);
        if (!ticket || !valid) return reply.code(403).send({ code: 403, message: 'signature does not match' });
        if (Date.now() > ticket.expiresAt || Number(expires) * 1000 < Date.now()) return reply.code(403).send({ code: 403, message: 'upload URL expired' });
        const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        if (body.length !== ticket.size) throw new WavespeedApiError(400, `size mismatch: the ticket says ${ticket.size} bytes, the body has ${body.length}`);
        const mimetype = ticket.contentType ?? request.headers['content-type'] ?? 'application/octet-stream';
        const digest = digestBuffer(body);
        const upload: MediaUpload = {
          id: ticket.id,
          filename: ticket.filename,
          mimetype,
          type: mediaType(mimetype, ticket.filename),
          size: digest.size,
          md5: digest.md5,
          bytes: body,
          downloadUrl: `${deps.baseUrl()}/media/${ticket.id}/${encodeURIComponent(ticket.filename)}`,
          at: Date.now(),
          flow: 'presigned',
        };
        // A repeated PUT replaces the bytes, as a storage bucket does.
        const earlier = deps.uploads.findIndex((u) => u.id === ticket.id);
        if (earlier >= 0) deps.uploads.splice(earlier, 1, upload);
        else {
          deps.uploads.push(upload);
          deps.counted();
        }
        return reply.code(200).send();
      },
    );
  });
}
