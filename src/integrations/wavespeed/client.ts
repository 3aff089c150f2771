import {
  WavespeedAuthError,
  WavespeedNotFoundError,
  WavespeedRateLimitError,
  WavespeedRejectedError,
  WavespeedSubmitAmbiguousError,
  WavespeedUnavailableError,
} from '../../errors.js';
import { surelyNotSent } from '../request-sent.js';
import { CallbackTokens } from './callback-token.js';
import { parsePrediction } from './parse.js';
import type { ImageToVideoInput, PredictionResult } from './types.js';

export interface WavespeedClientOptions {
  apiKey: string;
  /** e.g. `https://api.wavespeed.ai` or a simulator's URL. */
  apiRoot: string;
  timeoutMs?: number;
}

/** Which upload flow stored a file. */
export type UploadFlow = 'presigned' | 'binary';

/** After WaveSpeed answered the ticket request 404/405, how long the binary endpoint is used without asking again. */
export const BINARY_FALLBACK_MS = 10 * 60 * 1000;

/** What `POST /api/v3/media/uploads` answers. */
interface UploadTicket {
  download_url?: string;
  upload?: { url?: string; method?: string; headers?: Record<string, string> };
}

interface Envelope<T> {
  code?: number;
  message?: string;
  data?: T;
}

/**
 * WaveSpeed AI REST client (API v3): media upload, submit, result polling and
 * the webhook secret. Failures come out as Telewan's named errors.
 */
export class WavespeedClient {
  /** Tokens binding webhook URLs to their workflow, keyed by this client's API key. */
  readonly callbackTokens: CallbackTokens;
  /** Until when uploads go to the binary endpoint without trying a ticket. */
  private binaryUntil = 0;

  constructor(private readonly options: WavespeedClientOptions) {
    this.callbackTokens = new CallbackTokens(options.apiKey);
  }

  /**
   * Uploads an image so WaveSpeed can fetch it from its own storage: through the
   * current flow (a ticket from `POST /api/v3/media/uploads`, then a PUT of the
   * bytes to its presigned URL), or the older multipart `upload/binary` endpoint
   * when WaveSpeed answers the ticket request 404 or 405, which it then keeps
   * using for {@link BINARY_FALLBACK_MS}. The presigned URL gets no API key.
   */
  async uploadMedia(bytes: Uint8Array, filename: string, contentType: string): Promise<{ downloadUrl: string; flow: UploadFlow }> {
    if (Date.now() >= this.binaryUntil) {
      try {
        return { downloadUrl: await this.uploadWithTicket(bytes, filename, contentType), flow: 'presigned' };
      } catch (err) {
        if (!(err instanceof WavespeedRejectedError && (err.status === 404 || err.status === 405))) throw err;
        this.binaryUntil = Date.now() + BINARY_FALLBACK_MS;
      }
    }
    const form = new FormData();
    form.append('file', new Blob([bytes], { type: contentType }), filename);
    const data = await this.request<{ download_url?: string }>('POST', '/api/v3/media/upload/binary', form);
    if (!data.download_url) throw new WavespeedUnavailableError('upload answer had no download_url');
    return { downloadUrl: data.download_url, flow: 'binary' };
  }

  private async uploadWithTicket(bytes: Uint8Array, filename: string, contentType: string): Promise<string> {
    const ticket = await this.request<UploadTicket>('POST', '/api/v3/media/uploads', JSON.stringify({ filename, size: bytes.byteLength, content_type: contentType }));
    const put = ticket.upload;
    if (!ticket.download_url || !put?.url || put.method?.toUpperCase() !== 'PUT' || !/^https?:\/\//i.test(put.url)) {
      throw new WavespeedUnavailableError('upload ticket had no download_url or no PUT instruction');
    }
    let response: Response;
    try {
      response = await fetch(put.url, {
        method: 'PUT',
        headers: { ...(put.headers ?? {}) },
        body: bytes,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
      });
    } catch (err) {
      throw new WavespeedUnavailableError(`upload PUT failed: ${err instanceof Error ? err.name : 'network error'}`);
    }
    const text = await response.text();
    if (response.status === 413) throw new WavespeedRejectedError(413, 'file too large for WaveSpeed storage');
    // An expired or refused presigned URL is worth a new ticket: the activity's retry asks for one.
    if (!response.ok) throw new WavespeedUnavailableError(`upload PUT answered HTTP ${response.status}: ${text.slice(0, 200)}`);
    return ticket.download_url;
  }

  /**
   * Submits a generation; WaveSpeed calls `webhookUrl` when it ends. WaveSpeed
   * has no idempotency key, so a failure is retryable only when WaveSpeed
   * surely created nothing: no connection was made (`WavespeedUnavailableError`),
   * 429 (`WavespeedRateLimitError`), 401/403 (`WavespeedAuthError`); a 4xx is
   * `WavespeedRejectedError`. Anything after the request went out without a
   * usable answer (timeout, reset, 5xx, an unreadable 2xx) is
   * `WavespeedSubmitAmbiguousError`, never retried.
   */
  async submit(model: string, input: ImageToVideoInput, webhookUrl?: string): Promise<PredictionResult> {
    const query = webhookUrl ? `?webhook=${encodeURIComponent(webhookUrl)}` : '';
    try {
      const data = await this.request<unknown>('POST', `/api/v3/${model}${query}`, JSON.stringify(input));
      return parsePrediction(data);
    } catch (err) {
      if (err instanceof WavespeedUnavailableError && !surelyNotSent(err.cause)) {
        throw new WavespeedSubmitAmbiguousError(model, err.message, { cause: err });
      }
      throw err;
    }
  }

  /** Reads a prediction's current state. */
  async getResult(predictionId: string): Promise<PredictionResult> {
    try {
      const data = await this.request<unknown>('GET', `/api/v3/predictions/${encodeURIComponent(predictionId)}/result`);
      return parsePrediction(data);
    } catch (err) {
      if (err instanceof WavespeedRejectedError && err.status === 404) throw new WavespeedNotFoundError(predictionId);
      throw err;
    }
  }

  /** The secret WaveSpeed signs webhooks with (`whsec_...`). */
  async getWebhookSecret(): Promise<string> {
    const data = await this.request<{ secret?: string }>('GET', '/api/v3/webhook/secret');
    if (!data.secret) throw new WavespeedUnavailableError('webhook secret answer had no secret');
    return data.secret;
  }

  private async request<T>(method: string, path: string, body?: string | FormData): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.options.apiKey}` };
    if (typeof body === 'string') headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(`${this.options.apiRoot}${path}`, {
        method,
        headers,
        body,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
      });
    } catch (err) {
      throw new WavespeedUnavailableError(err instanceof Error ? `${err.name}: ${err.message}` : 'network error', { cause: err });
    }
    const text = await response.text();
    let envelope: Envelope<T> | undefined;
    try {
      envelope = JSON.parse(text) as Envelope<T>;
    } catch {
      envelope = undefined;
    }
    const message = envelope?.message ?? text.slice(0, 200);
    if (response.status === 401 || response.status === 403) throw new WavespeedAuthError(response.status);
    if (response.status === 429) throw new WavespeedRateLimitError();
    if (response.status >= 500) throw new WavespeedUnavailableError(`HTTP ${response.status}: ${message}`);
    if (!response.ok) throw new WavespeedRejectedError(response.status, message || `HTTP ${response.status}`);
    if (!envelope?.data) throw new WavespeedUnavailableError(`answer without data: ${text.slice(0, 200)}`);
    return envelope.data;
  }
}
