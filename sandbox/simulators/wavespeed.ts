import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { createServer, listen, type SimulatorLogger } from './shared/server.js';
import { SlidingWindow } from './shared/sliding-window.js';
import { pickLatency, TimerSet, type Latency } from './shared/timers.js';
import { PredictionEngine } from './wavespeed/engine.js';
import type { ModelSpec } from './wavespeed/models.js';
import { wavespeedRoutes } from './wavespeed/routes.js';
import type { LostAnswer, MediaUpload, Prediction, WavespeedStats, WebhookDelivery } from './wavespeed/types.js';

export { signWavespeedWebhook, verifyWavespeedWebhook, type WavespeedWebhookHeaders } from './wavespeed/signature.js';
export { MODELS as WAVESPEED_MODELS, type ModelSpec } from './wavespeed/models.js';
export type { LostAnswer, MediaUpload, PlannedOutcome, Prediction, PredictionStatus, WavespeedStats, WebhookDelivery } from './wavespeed/types.js';

/** Configuration of a {@link WavespeedSimulator}. */
export interface WavespeedSimulatorOptions {
  /** The key accepted in `Authorization: Bearer <apiKey>`. */
  apiKey: string;
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** `whsec_` + 32 hex characters; random by default. */
  webhookSecret?: string;
  /** Time from getting a concurrency slot to the terminal status. Default 2000 ms. */
  latencyMs?: Latency;
  /** Time from getting a slot to `processing`. Default 200 ms. */
  processingAfterMs?: number;
  /** Fraction (0..1) of predictions that fail. */
  failureRate?: number;
  /** Fraction (0..1) of completed predictions flagged NSFW. */
  nsfwRate?: number;
  /** Fraction (0..1) of webhooks never sent. */
  lostCallbackRate?: number;
  /** Fraction (0..1) of accepted submissions whose answer is lost (the connection reset after the prediction was stored). */
  lostAnswerRate?: number;
  /** Delay between the terminal status and the webhook POST. Default 0. */
  callbackDelayMs?: number;
  /** Tier concurrency; more predictions wait in `created`. Default 2 (Bronze, as WaveSpeed's tiers are in late 2026). */
  maxConcurrent?: number;
  /** Accepted submissions per rolling minute; over it, 429 without Retry-After. Default unlimited. */
  perMinuteLimit?: number;
  /** Size of each generated MP4. Default 100 KiB. */
  outputBytes?: number;
  /** How long a webhook receiver may take to answer. Default 10 s. */
  webhookTimeoutMs?: number;
  /** How long downloading the input image may take. Default 30 s. */
  imageFetchTimeoutMs?: number;
  /** How long a sync-mode submission (`enable_sync_mode: true`) waits for its result before answering code 5004. Default 60 s. */
  syncTimeoutMs?: number;
  /** Whether `POST /api/v3/media/uploads` (presigned PUT) exists. Default true; false answers 404, as WaveSpeed did before it. */
  ticketUploads?: boolean;
  logger?: SimulatorLogger;
}

/** Knobs that may change while the simulator runs. */
export type WavespeedRuntimeOptions = Pick<
  WavespeedSimulatorOptions,
  | 'latencyMs'
  | 'processingAfterMs'
  | 'failureRate'
  | 'nsfwRate'
  | 'lostCallbackRate'
  | 'lostAnswerRate'
  | 'callbackDelayMs'
  | 'maxConcurrent'
  | 'perMinuteLimit'
  | 'outputBytes'
  | 'syncTimeoutMs'
  | 'ticketUploads'
>;

const emptyStats = (): WavespeedStats => ({
  submitted: 0,
  completed: 0,
  failed: 0,
  cancelled: 0,
  rateLimited: 0,
  callbacksSent: 0,
  callbacksFailed: 0,
  callbacksLost: 0,
  maxInFlightSeen: 0,
  maxUnfinishedSeen: 0,
  uploads: 0,
  answersLost: 0,
});

/**
 * The WaveSpeed AI API over loopback HTTP. Predictions move through
 * `created → processing → completed | failed` under a concurrency cap, fetch
 * their input image, produce a streamed MP4 of configurable size, and send one
 * signed webhook (or lose it). Prompt markers pick a path deterministically:
 * `[reject]` (400 at submit), `[fail]`, `[nsfw]`, `[timeout]`, `[lose-callback]`,
 * `[slow:<ms>]`, `[bytes:<n>]`.
 */
export class WavespeedSimulator {
  readonly stats: WavespeedStats = emptyStats();
  /** Files received on either upload flow, oldest first. */
  readonly uploads: MediaUpload[] = [];
  private app: FastifyInstance | undefined;
  private baseUrl: string | undefined;
  private readonly timers = new TimerSet();
  private readonly engine: PredictionEngine;
  private readonly submitWindow = new SlidingWindow(60_000);
  private readonly extraModels = new Map<string, ModelSpec>();
  private readonly outputBytesByModel = new Map<string, number>();
  private readonly opts: WavespeedSimulatorOptions;
  private readonly secret: string;
  private readonly lostAnswers: LostAnswer[] = [];

  constructor(opts: WavespeedSimulatorOptions) {
    this.opts = { ...opts };
    this.secret = opts.webhookSecret ?? `whsec_${randomBytes(16).toString('hex')}`;
    this.engine = new PredictionEngine(this.stats, this.timers, {
      maxConcurrent: () => this.opts.maxConcurrent ?? 2,
      processingAfterMs: () => this.opts.processingAfterMs ?? 200,
      callbackDelayMs: () => this.opts.callbackDelayMs ?? 0,
      webhookTimeoutMs: () => this.opts.webhookTimeoutMs ?? 10_000,
      imageFetchTimeoutMs: () => this.opts.imageFetchTimeoutMs ?? 30_000,
      secret: () => this.secret,
      baseUrl: () => this.url,
    });
  }

  /** Starts listening; resolves to the base URL to use instead of `https://api.wavespeed.ai`. */
  async start(): Promise<string> {
    if (this.baseUrl) return this.baseUrl;
    const app = createServer(this.opts.logger);
    await app.register(wavespeedRoutes, {
      apiKey: this.opts.apiKey,
      engine: this.engine,
      uploads: this.uploads,
      secret: () => this.secret,
      baseUrl: () => this.url,
      extraModels: this.extraModels,
      submitWindow: this.submitWindow,
      ticketUploads: () => this.opts.ticketUploads ?? true,
      submit: {
        latencyMs: () => pickLatency(this.opts.latencyMs, 2000),
        failureRate: () => this.opts.failureRate ?? 0,
        nsfwRate: () => this.opts.nsfwRate ?? 0,
        lostCallbackRate: () => this.opts.lostCallbackRate ?? 0,
        perMinuteLimit: () => this.opts.perMinuteLimit ?? Infinity,
        outputBytes: (model) => this.outputBytesByModel.get(model) ?? this.opts.outputBytes ?? 100 * 1024,
        syncTimeoutMs: () => this.opts.syncTimeoutMs ?? 60_000,
        loseAnswer: () => this.lostAnswers.shift() ?? (Math.random() < (this.opts.lostAnswerRate ?? 0) ? 'reset' : undefined),
      },
    });
    this.baseUrl = await listen(app, this.opts.host ?? '127.0.0.1', this.opts.port ?? 0);
    this.app = app;
    return this.baseUrl;
  }

  /** Cancels every timer and outgoing request, then closes the server (records stay readable). */
  async stop(): Promise<void> {
    this.engine.halt();
    this.timers.clearAll();
    const app = this.app;
    this.app = undefined;
    await app?.close();
  }

  /** Base URL; throws before `start()`. */
  get url(): string {
    if (!this.baseUrl) throw new Error('WavespeedSimulator is not started');
    return this.baseUrl;
  }

  /** What `GET /api/v3/webhook/secret` returns. */
  get webhookSecret(): string {
    return this.secret;
  }

  /** Every prediction by id, as the simulator tracks it. */
  get predictions(): ReadonlyMap<string, Prediction> {
    return this.engine.predictions;
  }

  /** Webhook POSTs made (each once), in completion order. */
  get webhooks(): readonly WebhookDelivery[] {
    return this.engine.webhooks;
  }

  /** Webhooks deliberately not sent (`[lose-callback]` or `lostCallbackRate`). */
  get lostWebhooks(): ReadonlyArray<{ predictionId: string; url: string; at: number }> {
    return this.engine.lostWebhooks;
  }

  /** Predictions holding a concurrency slot now. */
  get inFlight(): number {
    return this.engine.inFlight;
  }

  /** Predictions submitted and not yet ended (waiting or holding a slot). */
  get unfinished(): number {
    return this.engine.unfinished;
  }

  /** Predictions waiting for a slot. */
  get queued(): number {
    return this.engine.queued;
  }

  /** Resolves when a prediction reaches a terminal status. */
  whenSettled(id: string): Promise<Prediction> {
    return this.engine.whenSettled(id);
  }

  /** Ends a queued or running prediction as `cancelled` (no webhook); false if already over. */
  cancelPrediction(id: string): boolean {
    return this.engine.cancel(id);
  }

  /** Forgets a prediction, as WaveSpeed does after 7 days: polling it then answers 404. */
  expirePrediction(id: string): boolean {
    return this.engine.delete(id);
  }

  /** Sets the size of MP4s generated from now on, for every model or for one. */
  setOutputBytes(bytes: number, opts: { model?: string } = {}): void {
    if (opts.model) this.outputBytesByModel.set(opts.model, bytes);
    else this.opts.outputBytes = bytes;
  }

  /** Registers another model id accepted by the submit endpoint. */
  addModel(id: string, spec: ModelSpec): void {
    this.extraModels.set(id, spec);
  }

  /**
   * The next `count` accepted submissions lose their answer (`how`): each
   * prediction is stored, runs and sends its webhook as usual, but the caller
   * gets a reset connection, no answer at all, or a 502 (counted in
   * `stats.answersLost`).
   */
  loseNextSubmitAnswers(count = 1, how: LostAnswer = 'reset'): void {
    for (let i = 0; i < count; i++) this.lostAnswers.push(how);
  }

  /** Changes latency, rates or limits at runtime. */
  configure(changes: WavespeedRuntimeOptions): void {
    Object.assign(this.opts, changes);
  }

  /** Forgets predictions, uploads, webhooks, stats and the per-minute window; cancels their timers. */
  reset(): void {
    this.engine.clear();
    this.lostAnswers.length = 0;
    this.uploads.length = 0;
    this.submitWindow.clear();
    Object.assign(this.stats, emptyStats());
  }
}
