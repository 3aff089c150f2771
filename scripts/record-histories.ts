/**
 * `npm run history:record [-- --only video-callback,video-polling] [--overwrite]`:
 * runs the workflows for real (Temporal dev server, Postgres, gateway, worker,
 * simulators) along each path the replay tests cover, and writes each history to
 * test/replay/encrypted/<name>.json. Payloads are encrypted with the committed
 * test key (test/helpers/encryption.ts), as production histories are with theirs;
 * the replay tests decode them with the same key. An existing file is kept unless
 * `--overwrite` is given: rename it (e.g. `<name>.v3.json`) to keep replaying it.
 *
 * Re-record after a deliberate, patched() change to a workflow; never to make a
 * failing replay test pass (see CONTRIBUTING.md).
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { TASK_QUEUES, WORKFLOW_TYPE } from '../src/constants.js';
import { ADMISSION_WORKFLOW_ID, commandWorkflowId, summaryWorkflowId, videoWorkflowId } from '../src/workflows/ids.js';
import { startTestSystem } from '../test/helpers/system.js';

/** `seed` picks the photo: equal seeds send the same picture (the result cache's hit). */
const scenarios: Array<{
  name: string;
  caption?: string;
  seed?: number;
  command?: string;
  cancelAfterSubmit?: boolean;
  /** WaveSpeed accepts the submission and loses its answer: the workflow adopts the prediction from its webhook. */
  loseSubmitAnswer?: boolean;
  /** Telegram takes this call and answers it after the client gave up (`TELEGRAM_*_TIMEOUT_SECONDS` below): it is not sent again. */
  answerLate?: 'sendMessage' | 'sendVideo';
  subscribers?: number;
  admission?: boolean;
}> = [
  { name: 'video-callback', caption: 'the waves roll in', seed: 1 },
  { name: 'video-cache-hit', caption: 'the waves roll in', seed: 1 },
  { name: 'video-polling', caption: 'slow pan across the hills [lose-callback]' },
  // A poll finds the prediction processing: the phase is recorded, the first text stays (no edit over it).
  { name: 'video-processing', caption: 'the lighthouse beam turns [lose-callback] [slow:8000]' },
  { name: 'video-failed', caption: 'melt everything [fail]' },
  { name: 'video-cancelled', caption: 'a very slow sunrise [slow:60000]', cancelAfterSubmit: true },
  // The admission workflow as the videos above left it (still running: it never ends).
  { name: 'wavespeed-admission', admission: true },
  { name: 'command-start', command: '/start' },
  // The user's language chosen by argument (the button press takes the same path), and /settings with its prices.
  { name: 'command-language', command: '/language es' },
  { name: 'command-settings', command: '/settings' },
  { name: 'summary-small', subscribers: 5 },
  { name: 'summary-multi-batch', subscribers: 60 },
  { name: 'video-lost-answer', caption: 'the tide comes in', loseSubmitAnswer: true },
  // The progress message's answer comes late: the request goes on without it.
  { name: 'video-progress-lost-answer', caption: 'the flag waves', answerLate: 'sendMessage' },
  // The cached video (video-callback's, recorded in the same run) is resent and its answer comes late.
  { name: 'video-cache-hit-lost-answer', caption: 'the waves roll in', seed: 1, answerLate: 'sendVideo' },
];

/** What a late answer outlasts: the client's timeouts for the recording, short so that it gives up soon. */
const SEND_TIMEOUT_SECONDS = 3;
const LATE_ANSWER_MS = 8_000;

const OUT_DIR = 'test/replay/encrypted';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { only: { type: 'string' }, overwrite: { type: 'boolean', default: false } }, strict: true });
  const only = values.only?.split(',').map((n) => n.trim());
  const unknown = only?.filter((n) => !scenarios.some((s) => s.name === n)) ?? [];
  if (unknown.length) throw new Error(`Unknown scenario(s) ${unknown.join(', ')}; known: ${scenarios.map((s) => s.name).join(', ')}`);
  const chosen = scenarios.filter((s) => !only || only.includes(s.name));
  const existing = chosen.map((s) => `${OUT_DIR}/${s.name}.json`).filter((p) => existsSync(p));
  if (existing.length && !values.overwrite) throw new Error(`${existing.join(', ')} exist: rename them to keep replaying them, or pass --overwrite`);
  await mkdir(OUT_DIR, { recursive: true });

  const sys = await startTestSystem({
    env: { TELEGRAM_SEND_TIMEOUT_SECONDS: String(SEND_TIMEOUT_SECONDS), TELEGRAM_MEDIA_TIMEOUT_SECONDS: String(SEND_TIMEOUT_SECONDS) },
  });
  try {
    let chatId = 9100;
    for (const scenario of scenarios) {
      chatId += 1;
      if (!chosen.includes(scenario)) continue;
      const telegram = sys.telegram!;
      let workflowId: string;
      if (scenario.admission) {
        workflowId = ADMISSION_WORKFLOW_ID;
      } else if (scenario.subscribers !== undefined) {
        workflowId = await startDistribution(sys, scenario.name, scenario.subscribers, chatId * 1000);
      } else if (scenario.command) {
        const update = telegram.makeTextUpdate({ chatId, userId: chatId, text: scenario.command });
        await telegram.pushUpdate(update);
        workflowId = commandWorkflowId(chatId, update.message!.message_id);
      } else {
        if (scenario.loseSubmitAnswer) sys.wavespeed!.loseNextSubmitAnswers(1, 'reset');
        if (scenario.answerLate) telegram.delayNext(scenario.answerLate, LATE_ANSWER_MS);
        const update = await telegram.makePhotoUpdate({ chatId, userId: chatId, caption: scenario.caption!, seed: scenario.seed });
        await telegram.pushUpdate(update);
        workflowId = videoWorkflowId(chatId, update.message!.message_id);
      }
      const handle = sys.temporal.client.workflow.getHandle(workflowId);
      if (scenario.cancelAfterSubmit) {
        for (;;) {
          const row = await sys.db.prisma.generation.findUnique({ where: { id: workflowId } });
          if (row?.status === 'submitted') break;
          await new Promise((r) => setTimeout(r, 100));
        }
        await telegram.pushUpdate(telegram.makeTextUpdate({ chatId, userId: chatId, text: '/cancel' }));
      }
      if (!scenario.admission) await handle.result().catch(() => undefined);
      const history = await handle.fetchHistory();
      const path = `${OUT_DIR}/${scenario.name}.json`;
      await writeFile(path, `${JSON.stringify(JSON.parse(historyToJSON(history)), null, 1)}\n`);
      console.log(`${path}: ${history.events?.length ?? 0} events`);
    }
  } finally {
    await sys.teardown();
  }
}

/** A source with `n` subscribers (one blocked, one whose chat is gone) and a summary, distributed. */
async function startDistribution(sys: Awaited<ReturnType<typeof startTestSystem>>, slug: string, n: number, firstUser: number): Promise<string> {
  const prisma = sys.db.prisma;
  const source = await prisma.source.create({ data: { slug, title: slug } });
  const ids = Array.from({ length: n }, (_, i) => firstUser + i);
  await prisma.telegramUser.createMany({ data: ids.map((id) => ({ id: BigInt(id), chatId: BigInt(id) })) });
  await prisma.subscription.createMany({ data: ids.map((id) => ({ userId: BigInt(id), sourceId: source.id })) });
  sys.telegram!.setChat(ids[1]!, 'blocked');
  sys.telegram!.setChat(ids[2]!, 'not-found');
  const summary = await prisma.summary.create({ data: { sourceId: source.id, externalId: 'v1', title: 'A new video', text: 'Its summary.' } });
  const workflowId = summaryWorkflowId(summary.id);
  await sys.temporal.client.workflow.start(WORKFLOW_TYPE.distribution, { taskQueue: TASK_QUEUES.broadcast, workflowId, args: [{ summaryId: summary.id }] });
  return workflowId;
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
