import { randomBytes } from 'node:crypto';
import { signWavespeedWebhook } from './signature.js';
import type { WebhookDelivery } from './types.js';

/**
 * POSTs one signed webhook, once: WaveSpeed documents no retries, so a failed
 * delivery is recorded and left for the client's polling to recover.
 */
export async function deliverWebhook(
  predictionId: string,
  url: string,
  payload: unknown,
  secret: string,
  timeoutMs: number,
  stopped: AbortSignal,
): Promise<WebhookDelivery> {
  const rawBody = JSON.stringify(payload);
  const webhookId = `msg_${randomBytes(16).toString('hex')}`;
  const timestamp = Math.floor(Date.now() / 1000);
  const delivery: WebhookDelivery = { predictionId, url, status: 0, ok: false, at: Date.now(), webhookId, timestamp, rawBody };
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': webhookId,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signWavespeedWebhook(secret, webhookId, timestamp, rawBody),
      },
      body: rawBody,
      signal: AbortSignal.any([stopped, AbortSignal.timeout(timeoutMs)]),
    });
    await res.arrayBuffer();
    delivery.status = res.status;
    delivery.ok = res.ok;
  } catch (err) {
    delivery.error = err instanceof Error ? err.message : String(err);
  }
  return delivery;
}
