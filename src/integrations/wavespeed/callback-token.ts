import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/** Labels the derived key, so it can serve no other purpose than callback tokens. */
const KEY_INFO = 'telewan/wavespeed-callback-token/v1';

/**
 * Binds a WaveSpeed webhook URL to the workflow it calls back: the submit adds
 * `?t=<token>` to `…/webhooks/wavespeed/<workflowId>`, the gateway accepts a
 * callback only when the token is the one for the workflow in its path. So a
 * signed callback, replayed inside its 300 s window to another workflow id,
 * is refused before anything is signalled.
 *
 * The token is HMAC-SHA256(workflowId) under a key derived (HKDF) from the
 * WaveSpeed API key, which the gateway and every worker already hold; the URL
 * handed to WaveSpeed carries only the HMAC, never a secret. Rotating the API
 * key invalidates the tokens of predictions in flight: their callbacks are
 * refused and polling finishes those requests.
 */
export class CallbackTokens {
  private readonly key: Buffer;

  constructor(apiKey: string) {
    if (!apiKey) throw new Error('CallbackTokens needs the WaveSpeed API key');
    this.key = Buffer.from(hkdfSync('sha256', apiKey, Buffer.alloc(0), KEY_INFO, 32));
  }

  /** The token for `workflowId`: 43 characters of base64url. */
  sign(workflowId: string): string {
    return createHmac('sha256', this.key).update(workflowId, 'utf8').digest('base64url');
  }

  /** Whether `token` is the one for `workflowId`, compared in constant time. */
  verify(workflowId: string, token: unknown): boolean {
    if (typeof token !== 'string') return false;
    const given = Buffer.from(token, 'utf8');
    const expected = Buffer.from(this.sign(workflowId), 'utf8');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}
