import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBot } from '../../src/bot/bot.js';
import { buildApp } from '../../src/gateway/app.js';
import type { Catalog } from '../../src/db/catalog.js';
import { RedriveRefusedError, type RedriveResult, type Redriver } from '../../src/temporal/client/redrive.js';
import { TemporalUnavailableError } from '../../src/temporal/client/starter.js';
import { botInfo } from './bot-info.js';
import { CALLBACK_TOKENS, FakeWorkflows } from './fake-workflows.js';

const TOKEN = 'operators-api-token-0123456789ab';

/** Answers from a script keyed by workflow id; remembers what it was asked. */
class ScriptedRedriver implements Redriver {
  asked: Array<{ workflowId: string; reason?: string }> = [];
  constructor(private readonly answers: Record<string, RedriveResult | Error>) {}
  async redrive(workflowId: string, options: { reason?: string } = {}): Promise<RedriveResult> {
    this.asked.push({ workflowId, ...options });
    const answer = this.answers[workflowId] ?? new RedriveRefusedError('not-found', `There is no workflow ${workflowId}`);
    if (answer instanceof Error) throw answer;
    return answer;
  }
}

const reset: RedriveResult = { workflowId: 'video-1-2', kind: 'video', failedRunId: 'r1', runId: 'r2', how: 'reset', from: 'sendVideo' };
let redriver: ScriptedRedriver;
let app: FastifyInstance;

beforeEach(async () => {
  redriver = new ScriptedRedriver({
    'video-1-2': reset,
    'video-1-3': new RedriveRefusedError('running', 'video-1-3 is still running'),
    'video-1-4': new RedriveRefusedError('not-failed', 'video-1-4 did not fail: it ended completed'),
    'video-1-5': new TemporalUnavailableError(),
  });
  const workflows = new FakeWorkflows();
  app = await buildApp({
    bot: createBot({ token: '1:test', apiRoot: 'http://127.0.0.1:9', workflows, botInfo }),
    workflows,
    telegramWebhookSecret: 'unused-secret',
    wavespeedWebhookSecret: async () => 'whsec_unused',
    wavespeedCallbackTokens: CALLBACK_TOKENS,
    readiness: {},
    catalog: {} as Catalog,
    adminToken: TOKEN,
    redriver,
  });
});
afterEach(async () => {
  await app.close();
});

const redrive = (workflowId: string, body?: unknown, token: string | null = TOKEN) =>
  app.inject({
    method: 'POST',
    url: `/api/workflows/${workflowId}/redrive`,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
    },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });

describe('POST /api/workflows/:workflowId/redrive', () => {
  it('re-drives and answers 202 with the new run, with or without a reason', async () => {
    const res = await redrive('video-1-2', { reason: 'Telegram is back' });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual(reset);
    expect((await redrive('video-1-2')).statusCode).toBe(202);
    expect(redriver.asked).toEqual([{ workflowId: 'video-1-2', reason: 'Telegram is back' }, { workflowId: 'video-1-2', reason: undefined }]);
  });

  it('needs the admin token', async () => {
    expect((await redrive('video-1-2', {}, null)).statusCode).toBe(401);
    expect((await redrive('video-1-2', {}, 'wrong-token-wrong-token')).statusCode).toBe(401);
    expect(redriver.asked).toEqual([]);
  });

  it('answers 404 for an unknown workflow, 409 for a running or not failed one, 503 when Temporal is down', async () => {
    expect(await redrive('video-9-9', {})).toMatchObject({ statusCode: 404 });
    expect((await redrive('video-9-9', {})).json()).toEqual({ error: 'Not Found', message: 'There is no workflow video-9-9' });
    expect((await redrive('video-1-3', {})).json()).toEqual({ error: 'Conflict', message: 'video-1-3 is still running' });
    expect((await redrive('video-1-4', {})).statusCode).toBe(409);
    expect((await redrive('video-1-5', {})).statusCode).toBe(503);
  });

  it('checks the reason', async () => {
    expect((await redrive('video-1-2', { reason: 'x'.repeat(501) })).statusCode).toBe(400);
    expect(redriver.asked).toEqual([]);
  });
});
