import { Client, Connection } from '@temporalio/client';
import { encryptedDataConverter, parseEncryptionKeys } from '../../src/temporal/encryption.js';
import type { ControlMessage, TgUpdate } from '../simulators/telegram.js';
import { commandWorkflowId, videoWorkflowId } from '../../src/workflows/ids.js';
import { StackNotRunningError, workflowUrl, type StackState } from './stack-state.js';

/** The source the demo creates (once) and subscribes the sandbox user to. */
export const DEMO_SOURCE = { slug: 'telewan-demo', title: 'Telewan Demo' };

export interface DemoOptions {
  /** Where progress goes; one line per call. */
  log?: (line: string) => void;
  /** How long to wait for the workflows to finish. Default 3 minutes. */
  timeoutMs?: number;
}

export interface DemoResult {
  videoWorkflowId: string;
  subscribeWorkflowId: string;
  summaryWorkflowId: string;
  /** What the sandbox chat received during the demo. */
  received: ControlMessage[];
}

/** Raised when the demo cannot go on; the message says why. */
export class DemoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DemoError';
  }
}

/**
 * Against a running `npm run dev` sandbox: a user sends the bot a photo with a
 * caption (through the Telegram simulator, to the gateway's webhook), subscribes
 * to a demo source, and an operator hands in a summary of it through the
 * operators' API. Prints each workflow's page in the Temporal UI, waits for the
 * workflows, then prints what the user received.
 */
export async function runDemo(state: StackState, options: DemoOptions = {}): Promise<DemoResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const startedAt = Date.now();
  const deadline = startedAt + (options.timeoutMs ?? 180_000);
  await expectAnswer(`${state.gatewayUrl}/healthz`, 'the gateway');
  if (!state.telegram) throw new DemoError('npm run dev runs with the real Telegram: the demo needs the sandbox (unset TELEGRAM_BOT_TOKEN or WAVESPEED_API_KEY)');
  if (!state.adminToken) throw new DemoError('npm run dev has no ADMIN_TOKEN for the operators\' API');
  await expectAnswer(`${state.telegram.apiRoot}/sandbox/chats/${state.sandboxChatId}/messages`, 'the Telegram simulator');

  const chat = state.sandboxChatId;
  const user = new SandboxUser(state.telegram.apiRoot, chat);
  const operator = new OperatorApi(state.gatewayUrl, state.adminToken);
  const seen = (await user.received()).length;
  const url = (id: string) => workflowUrl(state.temporal, id);

  const photo = await user.send({ photo: { caption: 'A lighthouse at dusk, waves rolling in, slow camera push' } });
  const videoId = videoWorkflowId(chat, photo.message!.message_id);
  log(`photo      chat ${chat} sent a photo with a caption`);
  log(`           imageToVideo       ${url(videoId)}`);

  await operator.post('/sources', DEMO_SOURCE);
  const subscribe = await user.send({ text: `/subscribe ${DEMO_SOURCE.slug}` });
  const subscribeId = commandWorkflowId(chat, subscribe.message!.message_id);
  log(`subscribe  chat ${chat} sent /subscribe ${DEMO_SOURCE.slug}`);
  log(`           botCommand         ${url(subscribeId)}`);

  const connection = await Connection.connect({ address: state.temporal.address, connectTimeout: 5_000 }).catch((err: unknown) => {
    throw new StackNotRunningError(`Temporal does not answer at ${state.temporal.address}: ${String(err)}`);
  });
  try {
    const client = new Client({
      connection,
      namespace: state.temporal.namespace,
      ...(state.payloadEncryptionKeys ? { dataConverter: encryptedDataConverter(parseEncryptionKeys(state.payloadEncryptionKeys)) } : {}),
    });
    const outcome = (id: string) => withDeadline(client.workflow.getHandle(id).result(), deadline, id);
    // An id that Temporal already had means the start was absorbed as a redelivery.
    const expectNew = async (id: string) => {
      const { startTime } = await client.workflow.getHandle(id).describe();
      if (startTime.getTime() < startedAt - 5_000) {
        throw new DemoError(`${id} is a workflow from ${startTime.toISOString()}: Temporal's history (.data/temporal.sqlite) is older than the database; stop npm run dev, delete that file and start again`);
      }
    };
    await expectNew(videoId);
    // The summary must find the user subscribed.
    await outcome(subscribeId);

    const stamp = new Date().toISOString();
    const summary = (await operator.post('/summaries', {
      source: DEMO_SOURCE.slug,
      externalId: `demo-${stamp}`,
      title: `Telewan demo summary (${stamp.slice(0, 19).replace('T', ' ')} UTC)`,
      text: 'Every request is a durable Temporal workflow: kill the worker mid-way and the video still arrives, exactly once.',
    })) as { workflowId: string };
    await expectNew(summary.workflowId);
    log(`summary    operator posted a summary of ${DEMO_SOURCE.slug}`);
    log(`           distributeSummary  ${url(summary.workflowId)}`);

    log('waiting for the workflows…');
    const [video, distribution] = await Promise.all([outcome(videoId), outcome(summary.workflowId)]);
    log(`imageToVideo      ${describe(video)}`);
    log(`distributeSummary ${describe(distribution)}`);

    // The last messages may be edits and sends that follow the workflows' ends by a moment.
    await new Promise((r) => setTimeout(r, 300));
    const received = (await user.received()).slice(seen);
    log(`chat ${chat} received:`);
    for (const m of received) log(`  bot> ${m.video ? `[video ${m.video.file_id}] ` : ''}${(m.text ?? m.caption ?? '').replaceAll('\n', ' ⏎ ')}`);
    return { videoWorkflowId: videoId, subscribeWorkflowId: subscribeId, summaryWorkflowId: summary.workflowId, received };
  } finally {
    await connection.close();
  }
}

function describe(result: unknown): string {
  return JSON.stringify(result);
}

async function expectAnswer(url: string, what: string): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(3_000) });
  } catch {
    throw new StackNotRunningError(`${what} does not answer at ${new URL(url).origin}`);
  }
  if (!res.ok) throw new StackNotRunningError(`${what} at ${new URL(url).origin} answered ${res.status}`);
}

function withDeadline<T>(promise: Promise<T>, deadline: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DemoError(`${what} did not finish in time; see it in the Temporal UI`)), Math.max(0, deadline - Date.now()));
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** The sandbox's Telegram user, through the simulator's control routes. */
class SandboxUser {
  constructor(
    private readonly root: string,
    private readonly chatId: number,
  ) {}

  async send(message: { photo: { caption: string } } | { text: string }): Promise<TgUpdate> {
    const res = await fetch(`${this.root}/sandbox/updates`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ chatId: this.chatId, ...message }),
    });
    if (!res.ok) throw new DemoError(`the Telegram simulator refused the update: ${res.status} ${await res.text()}`);
    const { update, webhook } = (await res.json()) as { update: TgUpdate; webhook: { status: number; error?: string } };
    if (webhook.status !== 200) throw new DemoError(`the gateway answered the webhook with ${webhook.status || webhook.error}`);
    return update;
  }

  async received(): Promise<ControlMessage[]> {
    const res = await fetch(`${this.root}/sandbox/chats/${this.chatId}/messages`);
    return ((await res.json()) as { messages: ControlMessage[] }).messages;
  }
}

/** The operators' API with the stack's admin token. */
class OperatorApi {
  constructor(
    private readonly gatewayUrl: string,
    private readonly token: string,
  ) {}

  async post(path: string, body: unknown): Promise<unknown> {
    const res = await fetch(`${this.gatewayUrl}/api${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.token}` },
      body: JSON.stringify(body),
    });
    const answer: unknown = await res.json().catch(() => undefined);
    if (!res.ok) throw new DemoError(`POST /api${path} answered ${res.status}: ${JSON.stringify(answer)}`);
    return answer;
  }
}
