import sharp from 'sharp';
import { Digester } from '../shared/digest.js';
import type { TimerSet } from '../shared/timers.js';
import { isTerminalStatus } from '../../../src/domain/prediction.js';
import { type Prediction, type PredictionStatus, type WavespeedStats, type WebhookDelivery } from './types.js';
import { deliverWebhook } from './webhook.js';

const MAX_IMAGE_BYTES = 30 * 1024 * 1024;

/** Knobs the engine reads at the moment it needs them, so they can change at runtime. */
export interface EngineSettings {
  maxConcurrent: () => number;
  processingAfterMs: () => number;
  callbackDelayMs: () => number;
  webhookTimeoutMs: () => number;
  imageFetchTimeoutMs: () => number;
  secret: () => string;
  baseUrl: () => string;
}

/**
 * Runs predictions through `created → processing → completed | failed`. At most
 * `maxConcurrent` hold a slot; the rest wait, still `created`, in FIFO order. A
 * started prediction downloads its image when it turns `processing` (failing if
 * it cannot), and ends `latencyMs` after it got its slot; then its webhook is
 * sent once, unless it is one of the lost ones.
 */
export class PredictionEngine {
  readonly predictions = new Map<string, Prediction>();
  readonly webhooks: WebhookDelivery[] = [];
  readonly lostWebhooks: Array<{ predictionId: string; url: string; at: number }> = [];
  private readonly queue: string[] = [];
  private readonly running = new Set<string>();
  private readonly timersOf = new Map<string, NodeJS.Timeout[]>();
  private readonly imageFetches = new Map<string, Promise<string | undefined>>();
  private readonly settled = new Map<string, Array<{ resolve: (p: Prediction) => void; reject: (e: Error) => void }>>();
  private stopController = new AbortController();
  private unfinishedCount = 0;

  constructor(
    readonly stats: WavespeedStats,
    private readonly timers: TimerSet,
    private readonly settings: EngineSettings,
  ) {}

  submit(prediction: Prediction): void {
    this.predictions.set(prediction.id, prediction);
    this.queue.push(prediction.id);
    this.stats.submitted++;
    this.unfinishedCount++;
    this.stats.maxUnfinishedSeen = Math.max(this.stats.maxUnfinishedSeen, this.unfinishedCount);
    this.pump();
  }

  /** Resolves when the prediction reaches a terminal status; rejects if the simulator halts first. */
  whenSettled(id: string): Promise<Prediction> {
    const p = this.predictions.get(id);
    if (!p) return Promise.reject(new Error(`unknown prediction ${id}`));
    if (isTerminalStatus(p.status)) return Promise.resolve(p);
    return new Promise((resolve, reject) => {
      const list = this.settled.get(id) ?? [];
      list.push({ resolve, reject });
      this.settled.set(id, list);
    });
  }

  cancel(id: string): boolean {
    const p = this.predictions.get(id);
    if (!p || isTerminalStatus(p.status)) return false;
    this.finish(p, 'cancelled', 'prediction cancelled');
    return true;
  }

  /** Forgets a prediction, as WaveSpeed does after 7 days. */
  delete(id: string): boolean {
    this.cancel(id);
    return this.predictions.delete(id);
  }

  get inFlight(): number {
    return this.running.size;
  }

  /** Predictions submitted and not yet in a terminal status. */
  get unfinished(): number {
    return this.unfinishedCount;
  }

  get queued(): number {
    return this.queue.length;
  }

  /**
   * Disarms every timer and aborts image downloads and webhooks under way; the
   * records stay for inspection, but unfinished predictions will not progress.
   */
  halt(): void {
    for (const handles of this.timersOf.values()) handles.forEach((h) => this.timers.clear(h));
    this.timersOf.clear();
    this.stopController.abort();
    this.stopController = new AbortController();
    this.queue.length = 0;
    this.running.clear();
    this.imageFetches.clear();
    const waiting = [...this.settled.values()].flat();
    this.settled.clear();
    for (const w of waiting) w.reject(new Error('WaveSpeed simulator stopped before the prediction settled'));
  }

  /** Halts, then forgets every prediction and webhook. */
  clear(): void {
    this.halt();
    this.predictions.clear();
    this.unfinishedCount = 0;
    this.webhooks.length = 0;
    this.lostWebhooks.length = 0;
  }

  private pump(): void {
    while (this.running.size < this.settings.maxConcurrent() && this.queue.length > 0) {
      const id = this.queue.shift();
      const p = id === undefined ? undefined : this.predictions.get(id);
      if (p && p.status === 'created') this.start(p);
    }
  }

  private start(p: Prediction): void {
    this.running.add(p.id);
    this.stats.maxInFlightSeen = Math.max(this.stats.maxInFlightSeen, this.running.size);
    p.startedAt = Date.now();
    const toProcessing = Math.min(this.settings.processingAfterMs(), p.latencyMs);
    this.arm(p.id, toProcessing, () => this.beginProcessing(p));
    this.arm(p.id, p.latencyMs, () => void this.end(p));
  }

  private beginProcessing(p: Prediction): void {
    if (p.status !== 'created') return;
    p.status = 'processing';
    const fetching = this.fetchImage(p);
    this.imageFetches.set(p.id, fetching);
    void fetching.then((error) => {
      if (error && p.status === 'processing') this.finish(p, 'failed', `failed to download image: ${error}`);
    });
  }

  private async end(p: Prediction): Promise<void> {
    if (p.status === 'created') this.beginProcessing(p);
    await this.imageFetches.get(p.id);
    if (p.status !== 'processing') return;
    switch (p.planned) {
      case 'complete':
      case 'nsfw':
        p.outputs = [`${this.settings.baseUrl()}/outputs/${p.id}.mp4`];
        p.has_nsfw_contents = [p.planned === 'nsfw'];
        this.finish(p, 'completed', '');
        break;
      case 'fail':
        this.finish(p, 'failed', 'internal error: video generation failed');
        break;
      case 'timeout':
        this.finish(p, 'timeout', 'prediction timed out');
        break;
    }
  }

  private finish(p: Prediction, status: PredictionStatus, error: string): void {
    p.status = status;
    p.error = error;
    p.finishedAt = Date.now();
    this.unfinishedCount--;
    p.inferenceMs = p.startedAt === undefined ? 0 : p.finishedAt - p.startedAt;
    if (status === 'completed') this.stats.completed++;
    else if (status === 'cancelled') this.stats.cancelled++;
    else this.stats.failed++;

    for (const h of this.timersOf.get(p.id) ?? []) this.timers.clear(h);
    this.timersOf.delete(p.id);
    this.imageFetches.delete(p.id);
    const queuedAt = this.queue.indexOf(p.id);
    if (queuedAt >= 0) this.queue.splice(queuedAt, 1);
    this.running.delete(p.id);
    for (const w of this.settled.get(p.id) ?? []) w.resolve(p);
    this.settled.delete(p.id);

    if (p.webhookUrl && status !== 'cancelled') this.scheduleWebhook(p, p.webhookUrl);
    this.pump();
  }

  private scheduleWebhook(p: Prediction, url: string): void {
    if (p.loseCallback) {
      this.stats.callbacksLost++;
      this.lostWebhooks.push({ predictionId: p.id, url, at: Date.now() });
      return;
    }
    const payload = webhookPayload(p, this.settings.baseUrl());
    this.timers.set(() => {
      this.stats.callbacksSent++;
      const signal = this.stopController.signal;
      void deliverWebhook(p.id, url, payload, this.settings.secret(), this.settings.webhookTimeoutMs(), signal).then((d) => {
        if (signal.aborted) return;
        if (!d.ok) this.stats.callbacksFailed++;
        this.webhooks.push(d);
      });
    }, this.settings.callbackDelayMs());
  }

  /** Downloads the input image; resolves to an error description, or undefined when it is usable. */
  private async fetchImage(p: Prediction): Promise<string | undefined> {
    const url = String(p.input['image']);
    p.image = { url };
    const abandon = new AbortController();
    const signal = AbortSignal.any([abandon.signal, this.stopController.signal, AbortSignal.timeout(this.settings.imageFetchTimeoutMs())]);
    const image = p.image;
    const give = (error: string): string => {
      abandon.abort();
      return (image.error = error);
    };
    try {
      const res = await fetch(url, { signal });
      if (!res.ok || !res.body) return give(`HTTP ${res.status}`);
      const digester = new Digester(MAX_IMAGE_BYTES);
      for await (const chunk of res.body) {
        digester.update(chunk);
        if (digester.size > MAX_IMAGE_BYTES) return give('image too large');
      }
      const { bytes, size, md5 } = digester.done();
      Object.assign(image, { size, md5 });
      const meta = await sharp(bytes ?? Buffer.alloc(0)).metadata();
      Object.assign(image, { width: meta.width, height: meta.height });
      return undefined;
    } catch (err) {
      return give(err instanceof Error && /unsupported image format/i.test(err.message) ? 'unsupported image format' : errorText(err));
    }
  }

  private arm(id: string, ms: number, fn: () => void): void {
    const handle = this.timers.set(fn, ms);
    const list = this.timersOf.get(id) ?? [];
    list.push(handle);
    this.timersOf.set(id, list);
  }
}

/** The body WaveSpeed POSTs to a webhook: the prediction, without the `{ code, data }` envelope. */
export function webhookPayload(p: Prediction, baseUrl: string): Record<string, unknown> {
  return {
    id: p.id,
    model: p.model,
    input: p.input,
    outputs: p.outputs,
    urls: { get: `${baseUrl}/api/v3/predictions/${p.id}/result` },
    has_nsfw_contents: p.has_nsfw_contents,
    status: p.status,
    created_at: p.created_at,
    error: p.error,
    timings: { inference: p.inferenceMs ?? 0 },
  };
}

function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as Error & { cause?: unknown }).cause;
  return cause instanceof Error ? `${err.message} (${cause.message})` : err.message;
}
