/**
 * The load generator, run as a child process (see ./load.ts) so that its
 * clock and event loop are not the gateway's: open-loop arrivals are fired on
 * time even when the process under test is busy. It receives one plan over IPC,
 * runs it, answers with the raw samples and exits.
 */
import { Agent, request } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { encryptedDataConverter, parseEncryptionKeys } from '../../src/temporal/encryption.js';
import type { TgUpdate } from '../../sandbox/simulators/telegram.js';
import type { GeneratorMessage, LoadKind, LoadPlan, LoadResult, Sample } from './load.js';

const REQUEST_TIMEOUT_MS = 30_000;

/**
 * Fires `fire(i)` for i in [0, count) at `t0 + i / rate`, never waiting for
 * earlier calls: a slow answer does not delay later arrivals.
 */
async function openLoop(rate: number, count: number, fire: (i: number) => Promise<number>): Promise<Sample[]> {
  const interval = 1000 / rate;
  const samples: Sample[] = new Array<Sample>(count);
  const inFlight: Promise<void>[] = [];
  const t0 = performance.now() + 5;
  const launch = (i: number) => {
    const scheduled = t0 + i * interval;
    const sent = performance.now();
    inFlight.push(
      fire(i).then(
        (status) => void (samples[i] = { scheduled, sent, done: performance.now(), status }),
        (err: unknown) => void (samples[i] = { scheduled, sent, done: performance.now(), status: 0, error: err instanceof Error ? err.message : String(err) }),
      ),
    );
  };
  for (let next = 0; next < count; ) {
    const now = performance.now();
    while (next < count && t0 + next * interval <= now) launch(next++);
    if (next < count) await new Promise((resolve) => setTimeout(resolve, Math.max(0, t0 + next * interval - performance.now())));
  }
  await Promise.all(inFlight);
  return samples;
}

function post(url: URL, agent: Agent, headers: Record<string, string>, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
      res.once('error', reject);
    });
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.once('error', reject);
    req.end(body);
  });
}

/** A copy of a real photo update, from another user and chat, so it starts its own workflow. */
function photoUpdateFor(template: TgUpdate, chatId: number): string {
  const message = template.message!;
  const user = { ...message.from!, id: chatId, first_name: `Bench${chatId}`, username: `bench_${chatId}` };
  return JSON.stringify({
    ...template,
    update_id: chatId,
    message: { ...message, message_id: 1, from: user, chat: { ...message.chat, id: chatId, first_name: user.first_name, username: user.username } },
  });
}

function send(message: GeneratorMessage): Promise<void> {
  return new Promise((resolve) => process.send!(message, () => resolve()));
}

async function run(plan: LoadPlan): Promise<LoadResult> {
  // Telegram itself opens at most 40 (max_connections, up to 100) at once; this
  // generator allows more, so that only the gateway queues requests.
  const agent = new Agent({ keepAlive: true, maxSockets: 1024 });
  const webhookUrl = new URL(plan.webhook.url);
  const headers = { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': plan.webhook.secret };
  const connection = await Connection.connect({ address: plan.start.temporalAddress });
  const client = new Client({ connection, namespace: plan.start.namespace, dataConverter: encryptedDataConverter(parseEncryptionKeys(plan.start.payloadKeys)) });

  let chatId = plan.webhook.firstChatId;
  let workflowNumber = 0;
  const block = async (kind: LoadKind, seconds: number): Promise<Sample[]> => {
    const count = Math.round(plan.rate * seconds);
    if (kind === 'webhook') {
      // Bodies are built before the clock starts, so the generator only sends.
      const bodies = Array.from({ length: count }, () => photoUpdateFor(plan.webhook.template, chatId++));
      return openLoop(plan.rate, count, (i) => post(webhookUrl, agent, headers, bodies[i]!));
    }
    const first = workflowNumber;
    workflowNumber += count;
    return openLoop(plan.rate, count, async (i) => {
      await client.workflow.start(plan.start.workflowType, {
        taskQueue: plan.start.taskQueue,
        workflowId: `${plan.start.workflowIdPrefix}-${first + i}`,
        args: [],
      });
      return 200;
    });
  };

  const empty = () => ({ samples: [], cpuPercent: 0, sentPerSecond: 0, answeredPerSecond: 0 });
  const result: LoadResult = { webhook: empty(), start: empty() };
  const totals = () => ({ cpuMicros: 0, ms: 0, sendMs: 0, answerMs: 0, answered: 0 });
  const cpu: Record<LoadKind, ReturnType<typeof totals>> = { webhook: totals(), start: totals() };
  try {
    if (plan.warmupSeconds > 0) {
      await block('webhook', plan.warmupSeconds);
      await block('start', plan.warmupSeconds);
    }
    const blocks = Math.max(1, Math.round(plan.seconds / plan.blockSeconds));
    for (let b = 0; b < blocks; b++) {
      const seconds = b < blocks - 1 ? plan.blockSeconds : plan.seconds - plan.blockSeconds * (blocks - 1);
      for (const kind of ['webhook', 'start'] as const) {
        await send({ type: 'block', kind, edge: 'start' });
        const usage = process.cpuUsage();
        const started = performance.now();
        const samples = await block(kind, seconds);
        const used = process.cpuUsage(usage);
        const t = cpu[kind];
        t.cpuMicros += used.user + used.system;
        t.ms += performance.now() - started;
        const firstSent = Math.min(...samples.map((x) => x.sent));
        // Rates over n arrivals span n intervals of the schedule: count the last one's.
        t.sendMs += Math.max(...samples.map((x) => x.sent)) - firstSent + 1000 / plan.rate;
        t.answerMs += Math.max(...samples.map((x) => x.done)) - firstSent;
        t.answered += samples.filter((x) => x.status >= 200 && x.status < 300).length;
        result[kind].samples.push(...samples);
        await send({ type: 'block', kind, edge: 'end' });
      }
    }
  } finally {
    agent.destroy();
    await connection.close();
  }
  for (const kind of ['webhook', 'start'] as const) {
    const t = cpu[kind];
    Object.assign(result[kind], {
      cpuPercent: t.cpuMicros / 10 / t.ms,
      sentPerSecond: (1000 * result[kind].samples.length) / t.sendMs,
      answeredPerSecond: (1000 * t.answered) / t.answerMs,
    });
  }
  return result;
}

process.once('message', (plan: LoadPlan) => {
  void run(plan).then(
    (result) => send({ type: 'result', result }),
    (err: unknown) => send({ type: 'failure', message: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  ).finally(() => process.disconnect());
});
