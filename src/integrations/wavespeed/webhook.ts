import { createHmac, timingSafeEqual } from 'node:crypto';

/** Why a WaveSpeed webhook was refused. */
export class WebhookSignatureError extends Error {
  constructor(readonly reason: 'missing-headers' | 'stale' | 'bad-signature') {
    super(`WaveSpeed webhook refused: ${reason}`);
    this.name = 'WebhookSignatureError';
  }
}

/** Request headers, lower-cased as Node gives them (`webhook-id`, `webhook-timestamp`, `webhook-signature`). */
export type WebhookHeaders = Record<string, string | string[] | undefined>;

/** `v3,<hex>`: HMAC-SHA256 over `${id}.${timestamp}.${rawBody}`, keyed by the secret without `whsec_`. */
export function signWebhook(secret: string, id: string, timestamp: number | string, rawBody: string | Buffer): string {
  const key = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
  const mac = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(rawBody).digest('hex');
  return `v3,${mac}`;
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The signature headers of a webhook, present and in shape. */
export interface WebhookSignatureHeaders {
  id: string;
  timestamp: string;
  signatures: string;
}

/**
 * Reads the three signature headers and checks the timestamp is no older (or
 * further in the future) than `toleranceSeconds`. Needs no secret, so a post
 * without them is refused before the secret is even looked up.
 */
export function readWebhookHeaders(
  headers: WebhookHeaders,
  nowSeconds: number = Math.floor(Date.now() / 1000),
  toleranceSeconds = 300,
): WebhookSignatureHeaders {
  const id = header(headers['webhook-id']);
  const timestamp = header(headers['webhook-timestamp']);
  const signatures = header(headers['webhook-signature']);
  if (!id || !timestamp || !signatures || !/^\d{1,12}$/.test(timestamp)) throw new WebhookSignatureError('missing-headers');
  if (Math.abs(nowSeconds - Number(timestamp)) > toleranceSeconds) throw new WebhookSignatureError('stale');
  return { id, timestamp, signatures };
}

/** Checks the signature over the raw body; the header may carry several space-separated signatures. */
export function verifyWebhookSignature(secret: string, signed: WebhookSignatureHeaders, rawBody: Buffer): void {
  const expected = Buffer.from(signWebhook(secret, signed.id, signed.timestamp, rawBody));
  const ok = signed.signatures.split(' ').some((candidate) => {
    const given = Buffer.from(candidate.trim());
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!ok) throw new WebhookSignatureError('bad-signature');
}

/**
 * Verifies a WaveSpeed webhook as documented: signature over the raw body and a
 * timestamp no older (or further in the future) than `toleranceSeconds`.
 * The signature header may carry several space-separated signatures.
 */
export function verifyWebhook(
  secret: string,
  headers: WebhookHeaders,
  rawBody: Buffer,
  nowSeconds: number = Math.floor(Date.now() / 1000),
  toleranceSeconds = 300,
): WebhookSignatureHeaders {
  const signed = readWebhookHeaders(headers, nowSeconds, toleranceSeconds);
  verifyWebhookSignature(secret, signed, rawBody);
  return signed;
}
