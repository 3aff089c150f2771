import { Type, type Static } from 'typebox';

/** Bodies of the operators' API are small: a summary is at most a few KB. */
export const API_BODY_LIMIT = 64 * 1024;

export const Failure = Type.Object({ error: Type.String(), message: Type.String() });

export const SourceBody = Type.Object(
  {
    slug: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{1,31}$', description: 'What users type: /subscribe <slug>' }),
    // Short enough for an inline button "Subscribe to <title>".
    title: Type.String({ minLength: 1, maxLength: 100 }),
  },
  { additionalProperties: false },
);
export type SourceBody = Static<typeof SourceBody>;

export const SourceReply = Type.Object({ id: Type.Integer(), slug: Type.String(), title: Type.String() });

export const SummaryBody = Type.Object(
  {
    source: Type.String({ minLength: 1, maxLength: 32, description: 'The slug of an existing source' }),
    externalId: Type.String({ minLength: 1, maxLength: 200 }),
    title: Type.String({ minLength: 1, maxLength: 256 }),
    // Each part has its own bound; the joined message is checked against Telegram's 4,096 (src/domain/summary-text.ts).
    text: Type.String({ minLength: 1, maxLength: 3500 }),
    videoUrl: Type.Optional(Type.String({ format: 'uri', pattern: '^https?://', maxLength: 2048 })),
  },
  { additionalProperties: false },
);
export type SummaryBody = Static<typeof SummaryBody>;

export const SummaryReply = Type.Object({ summaryId: Type.Integer(), workflowId: Type.String(), created: Type.Boolean() });

export const RedriveParams = Type.Object({ workflowId: Type.String({ minLength: 1, maxLength: 255 }) });
export type RedriveParams = Static<typeof RedriveParams>;

export const RedriveBody = Type.Object(
  { reason: Type.Optional(Type.String({ minLength: 1, maxLength: 500, description: 'Why: kept with the reset and the domain event' })) },
  { additionalProperties: false },
);
export type RedriveBody = Static<typeof RedriveBody>;

export const RedriveReply = Type.Object({
  workflowId: Type.String(),
  kind: Type.Union([Type.Literal('video'), Type.Literal('distribution')]),
  failedRunId: Type.String(),
  runId: Type.String(),
  how: Type.Union([Type.Literal('reset'), Type.Literal('new-run')]),
  from: Type.String(),
});

/** How many queued requests `GET /generation` lists (the length is always given). */
export const GENERATION_QUEUE_LISTED = 100;

export const GenerationState = Type.Object({
  paused: Type.Boolean(),
  maxConcurrency: Type.Integer({ description: 'WAVESPEED_MAX_CONCURRENCY: predictions in flight at WaveSpeed, all workers together' }),
  inFlight: Type.Integer(),
  /** Workflow ids of the requests holding a permit, longest holder first. */
  holders: Type.Array(Type.String()),
  /** Workflow ids of requests that ended (cancelled) while their prediction still runs: their slots stay taken. */
  draining: Type.Array(Type.String()),
  queueLength: Type.Integer(),
  /** Workflow ids of the waiting requests, first in line first (at most 100). */
  queue: Type.Array(Type.String()),
});
export type GenerationState = Static<typeof GenerationState>;

export const PauseReply = Type.Object({ paused: Type.Boolean() });
