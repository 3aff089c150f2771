import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The `webhook-signature` header WaveSpeed sends: `v3,<hex>` where hex is
 * HMAC-SHA256 over `${webhookId}.${timestamp}.${rawBody}`, keyed with the secret
 * minus its `whsec_` prefix, used as UTF-8 text (not base64-decoded).
 */
export function signWavespeedWebhook(secret: string, webhookId: string, timestamp: number | string, rawBody: string): string {
  const key = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
  const hex = createHmac('sha256', Buffer.from(key, 'utf8')).update(`${webhookId}.${timestamp}.${rawBody}`).digest('hex');
  return `v3,${hex}`;
}

/** The three headers a webhook delivery carries. */
export interface WavespeedWebhookHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/**
 * Checks a delivery the way a receiver should: the signature (any of several
 * space-separated `v3,<hex>` values) and a timestamp no older than `toleranceSeconds`.
 */
export function verifyWavespeedWebhook(
  secret: string,
  headers: WavespeedWebhookHeaders,
  rawBody: string,
  opts: { toleranceSeconds?: number; now?: number } = {},
): boolean {
  const timestamp = Number(headers['webhook-timestamp']);
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  if (!Number.isFinite(timestamp) || Math.abs(now - timestamp) > (opts.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(signWavespeedWebhook(secret, headers['webhook-id'], headers['webhook-timestamp'], rawBody));
  return headers['webhook-signature'].split(' ').some((candidate) => {
    const given = Buffer.from(candidate);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
