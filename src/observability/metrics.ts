import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface MetricsOptions {
  /** Also Node's process metrics (CPU, memory, event loop lag), prefixed `telewan_gateway_` / `telewan_worker_`. */
  processMetrics?: boolean;
}

/**
 * The gateway's metrics, in their own registry (so a gateway and a worker in
 * one process, as in `npm run dev` and the tests, do not share counters).
 */
export function createGatewayMetrics(options: MetricsOptions = {}) {
  const registry = new Registry();
  if (options.processMetrics) collectDefaultMetrics({ register: registry, prefix: 'telewan_gateway_' });
  const registers = [registry];
  return {
    registry,
    /** Every answered request; `route` is the route pattern (`unmatched` for 404s), never the raw URL. */
    requests: new Counter({
      name: 'telewan_http_requests_total',
      help: 'HTTP requests answered by the gateway',
      labelNames: ['route', 'method', 'status'] as const,
      registers,
    }),
    requestDuration: new Histogram({
      name: 'telewan_http_request_duration_seconds',
      help: 'Time from request to answer',
      labelNames: ['route', 'method'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    /** `result` is `started`, or `duplicate` when the workflow already existed (a redelivery). */
    workflowStarts: new Counter({
      name: 'telewan_workflow_starts_total',
      help: 'Workflow starts asked of Temporal by the gateway',
      labelNames: ['workflow_type', 'result'] as const,
      registers,
    }),
    /** `source` telegram (reason `secret_mismatch`) or wavespeed (`bad-token`, `missing-headers`, `stale`, `bad-signature`). */
    webhookRejections: new Counter({
      name: 'telewan_webhook_rejections_total',
      help: 'Webhook calls refused for a wrong secret token or signature',
      labelNames: ['source', 'reason'] as const,
      registers,
    }),
    /** `verdict` slow-down (the one reply of a window) or drop. */
    updatesThrottled: new Counter({
      name: 'telewan_updates_throttled_total',
      help: "Telegram updates turned away because their user sent too many (USER_UPDATE_RATE_LIMIT)",
      labelNames: ['verdict'] as const,
      registers,
    }),
  };
}

export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;

/** Telewan's own worker metrics; the worker's `/metrics` adds Temporal's SDK metrics to them. */
export function createWorkerMetrics(options: MetricsOptions = {}) {
  const registry = new Registry();
  if (options.processMetrics) collectDefaultMetrics({ register: registry, prefix: 'telewan_worker_' });
  const registers = [registry];
  let poolSource: (() => { total: number; idle: number; waiting: number; max: number } | undefined) | undefined;
  return {
    registry,
    /** Where `telewan_database_pool_connections` reads the pool's counts at scrape time. */
    watchDatabasePool(source: typeof poolSource) {
      poolSource = source;
    },
    /** The database pool at scrape time: `state` open, idle, waiting (statements without a connection) and max. */
    databasePool: new Gauge({
      name: 'telewan_database_pool_connections',
      help: 'Connections of the database pool by state, and statements waiting for one',
      labelNames: ['state'] as const,
      registers,
      collect() {
        const stats = poolSource?.();
        if (!stats) return;
        this.set({ state: 'open' }, stats.total);
        this.set({ state: 'idle' }, stats.idle);
        this.set({ state: 'waiting' }, stats.waiting);
        this.set({ state: 'max' }, stats.max);
      },
    }),
    /** Recorded outcomes of `imageToVideo`: `completed`, `failed`, `cancelled`. */
    generations: new Counter({
      name: 'telewan_generations_total',
      help: 'Video generations by recorded outcome',
      labelNames: ['outcome'] as const,
      registers,
    }),
    /**
     * "Sending video…" of the fleet's presence loop, a chat at a time: `shown`, or
     * `skipped` (no room in the bot's Telegram budget at that instant: chat actions
     * go first under pressure).
     */
    chatActions: new Counter({
      name: 'telewan_chat_actions_total',
      help: 'Chat actions of the presence loop, shown or skipped',
      labelNames: ['result'] as const,
      registers,
    }),
    /** Messages Telegram accepted, by Bot API method (`sendMessage`, `sendVideo`, …). */
    telegramMessagesSent: new Counter({
      name: 'telewan_telegram_messages_sent_total',
      help: 'Messages sent to Telegram',
      labelNames: ['method'] as const,
      registers,
    }),
    telegramRateLimited: new Counter({
      name: 'telewan_telegram_rate_limited_total',
      help: 'Bot API calls answered 429 Too Many Requests',
      labelNames: ['method'] as const,
      registers,
    }),
    /** `kind` reserve (one per reservation, however many slots), pause, clock (a read of the database's clock). */
    telegramBudgetStatements: new Counter({
      name: 'telewan_telegram_budget_statements_total',
      help: "Database statements of the fleet-wide Telegram budget",
      labelNames: ['kind'] as const,
      registers,
    }),
    /** `reason` late (woken too late), paused (a 429 came since), crowded (too many broadcast sends unanswered). */
    telegramBudgetSlotsGivenUp: new Counter({
      name: 'telewan_telegram_budget_slots_given_up_total',
      help: 'Reserved Telegram slots not used, their calls reserving anew',
      labelNames: ['reason'] as const,
      registers,
    }),
    /** Calls refused `TelegramBudgetBusyError` without reaching Telegram, by priority. */
    telegramBudgetBusy: new Counter({
      name: 'telewan_telegram_budget_busy_total',
      help: 'Bot API calls refused for want of a slot soon enough',
      labelNames: ['priority'] as const,
      registers,
    }),
    /** From asking for a slot to making the call, by priority (broadcast blocks not included). */
    telegramBudgetWait: new Histogram({
      name: 'telewan_telegram_budget_wait_seconds',
      help: 'Time a Bot API call waited for its slot of the fleet-wide budget',
      labelNames: ['priority'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    /** Activities that gave their worker slot back while waiting (a progress edit behind higher-priority Telegram calls), by activity type. */
    activitiesOutOfSlot: new Counter({
      name: 'telewan_activities_out_of_slot_total',
      help: 'Activities completed asynchronously: they waited without holding a worker slot',
      labelNames: ['activity'] as const,
      registers,
    }),
    /** From a statement asking the database pool for a connection to holding one (`DATABASE_POOL_SIZE`). */
    databasePoolWait: new Histogram({
      name: 'telewan_database_pool_wait_seconds',
      help: 'Time a database statement waited for a connection of the pool',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    resultCacheLookups: new Counter({
      name: 'telewan_result_cache_lookups_total',
      help: 'Lookups of a cached generation result',
      labelNames: ['result'] as const,
      registers,
    }),
  };
}

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;
