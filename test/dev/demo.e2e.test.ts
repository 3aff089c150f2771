import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployMigrations } from '../../scripts/lib/migrate.js';
import { createPrisma } from '../../src/db/client.js';
import { DEMO_SOURCE, runDemo } from '../../sandbox/dev/demo.js';
import { devDatabase, type DevDatabase } from '../../sandbox/dev/embedded-postgres.js';
import { startStack, type Stack } from '../../sandbox/dev/stack.js';
import { readStackState, SANDBOX_CHAT, StackNotRunningError, writeStackState } from '../../sandbox/dev/stack-state.js';
import { summaryWorkflowId } from '../../src/workflows/ids.js';
import { formatEncryptionKeys } from '../../src/temporal/encryption.js';
import { createLocalEnv } from '../helpers/temporal.js';

/** Where nothing listens (tcpmux): a port released by a test could be taken again by another. */
const CLOSED_PORT = 1;

const ROOT = resolve(import.meta.dirname, '../..');
const ADMIN_TOKEN = 'demo-test-admin-token-0123456789';

let dir: string;
let database: DevDatabase;
let temporal: TestWorkflowEnvironment;
let stack: Stack;
let stateFile: string;

// The dev stack as `npm run dev` builds it on a machine with no PostgreSQL:
// the embedded database, a Temporal dev server, simulators, gateway and worker.
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'telewan-demo-'));
  const starting = createLocalEnv().then((env) => (temporal = env));
  database = await devDatabase({ defaultUrl: 'unused', probe: { host: '127.0.0.1', port: CLOSED_PORT }, embedded: { dataDir: join(dir, 'pglite'), port: 0 } });
  await starting;
  await deployMigrations(database.url);
  stack = await startStack({
    sandbox: true,
    env: { DATABASE_URL: database.url, TEMPORAL_ADDRESS: temporal.address, GATEWAY_PORT: '0', LOG_LEVEL: 'warn', ADMIN_TOKEN },
    wavespeed: { latencyMs: 300, processingAfterMs: 50 },
  });
  stateFile = join(dir, 'stack.json');
  writeStackState(
    {
      pid: process.pid,
      startedAt: new Date().toISOString(),
      gatewayUrl: stack.gateway.url,
      temporal: { address: temporal.address, uiUrl: 'http://127.0.0.1:8233', namespace: stack.config.TEMPORAL_NAMESPACE },
      telegram: { apiRoot: stack.telegram!.apiRoot },
      wavespeed: { apiRoot: stack.config.WAVESPEED_API_ROOT },
      adminToken: ADMIN_TOKEN,
      payloadEncryptionKeys: formatEncryptionKeys(stack.config.PAYLOAD_ENCRYPTION_KEYS),
      sandboxChatId: SANDBOX_CHAT,
      database: database.url,
    },
    stateFile,
  );
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await temporal?.teardown();
  await database?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('npm run demo', () => {
  it('keeps the state file to its owner', async () => {
    expect((await stat(stateFile)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(stateFile, 'utf8'))).toMatchObject({ adminToken: ADMIN_TOKEN, sandboxChatId: SANDBOX_CHAT });
  });

  it('sends a photo and a summary through the running stack, prints the workflows\' UI pages and what the user received', async () => {
    const lines: string[] = [];
    const result = await runDemo(readStackState(stateFile), { log: (l) => lines.push(l), timeoutMs: 90_000 });
    const output = lines.join('\n');

    const ui = `http://127.0.0.1:8233/namespaces/default/workflows/`;
    expect(result.videoWorkflowId).toMatch(new RegExp(`^video-${SANDBOX_CHAT}-\\d+$`));
    expect(result.summaryWorkflowId).toMatch(/^summary-\d+$/);
    for (const id of [result.videoWorkflowId, result.subscribeWorkflowId, result.summaryWorkflowId]) expect(output).toContain(`${ui}${id}`);
    expect(output).toContain('imageToVideo      {"status":"completed"');
    expect(output).toMatch(/distributeSummary \{[^\n]*"sent":1/);

    // What the simulated user received: the video, the subscription, the summary.
    expect(result.received.some((m) => m.method === 'sendVideo' && m.video)).toBe(true);
    expect(result.received.some((m) => m.text === `Subscribed to ${DEMO_SOURCE.title}.`)).toBe(true);
    expect(result.received.some((m) => m.text?.includes('Telewan demo summary'))).toBe(true);
    expect(output).toMatch(/bot> \[video [^\]]+\]/);

    // Run again: the source exists, the user is subscribed already, a new summary goes out.
    const again = await runDemo(readStackState(stateFile), { log: () => {}, timeoutMs: 90_000 });
    expect(again.summaryWorkflowId).not.toBe(result.summaryWorkflowId);
    expect(again.received.some((m) => m.text === `You are already subscribed to ${DEMO_SOURCE.title}.`)).toBe(true);
  }, 200_000);

  it('notices when Temporal already had a workflow under the id it started (an older history)', async () => {
    const prisma = createPrisma(database.url);
    const next = ((await prisma.summary.aggregate({ _max: { id: true } }))._max.id ?? 0) + 1;
    await prisma.$disconnect();
    const stale = await temporal.client.workflow.start('distributeSummary', { taskQueue: 'nobody-polls-this', workflowId: summaryWorkflowId(next), args: [{ summaryId: next }] });
    try {
      await new Promise((r) => setTimeout(r, 5_500));
      await expect(runDemo(readStackState(stateFile), { log: () => {}, timeoutMs: 90_000 })).rejects.toThrow(
        new RegExp(`^${summaryWorkflowId(next)} is a workflow from .*delete that file`),
      );
    } finally {
      await stale.terminate();
    }
  }, 120_000);

  it('says the stack is not running when nothing answers', async () => {
    const state = readStackState(stateFile);
    await expect(runDemo({ ...state, gatewayUrl: `http://127.0.0.1:${CLOSED_PORT}` }, { log: () => {} })).rejects.toThrow(StackNotRunningError);
    expect(() => readStackState(join(dir, 'missing.json'))).toThrow(/npm run dev/);
    // Left behind by a killed `npm run dev`.
    const stale = join(dir, 'stale.json');
    writeStackState({ ...state, pid: 2 ** 22 + 1 }, stale);
    expect(() => readStackState(stale)).toThrow(StackNotRunningError);
    expect(() => readStackState(stale)).toThrow(`npm run dev (pid ${2 ** 22 + 1}) that wrote ${stale} has exited`);
  });

  it('exits non-zero with that message from the command line', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'telewan-nodemo-'));
    try {
      const run = promisify(execFile)(join(ROOT, 'node_modules/.bin/tsx'), [join(ROOT, 'scripts/demo.ts')], { cwd: empty });
      const failure = (await run.then(() => undefined, (e: unknown) => e)) as { code: number; stderr: string } | undefined;
      expect(failure?.code).toBe(1);
      expect(failure?.stderr).toContain('demo: The local stack is not running (no .data/stack.json). Start it with `npm run dev`');
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  }, 60_000);
});
