import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportHistory } from '../../scripts/lib/history-export.js';
import { findTemporalBinary } from '../../sandbox/dev/binaries.js';
import { EncryptionCodec, encryptedDataConverter, parseEncryptionKeys } from '../../src/temporal/encryption.js';
import { videoWorkflowId } from '../../src/workflows/ids.js';
import type { VideoOutcome } from '../../src/workflows/video/messages.js';
import { TEST_PAYLOAD_ENCRYPTION_KEYS, testDataConverter } from '../helpers/encryption.js';
import { TEST_ADMIN_TOKEN, postApi, startTestSystem, type TestSystem } from '../helpers/system.js';
import { bundleWorkflows } from '../helpers/temporal.js';
import { SEARCH_ATTRIBUTES } from '../../src/temporal/search-attributes.js';

/**
 * The system runs with a key of its own here (as production does), not the test
 * key, so exported histories must be re-encrypted before they can replay.
 */
const SYSTEM_KEYS = `prod-like:${Buffer.from('e2e-key-of-this-test-system-32b!').toString('base64')}`;

let sys: TestSystem;
let plainClient: Client;
let outDir: string;

beforeAll(async () => {
  sys = await startTestSystem({ env: { PAYLOAD_ENCRYPTION_KEYS: SYSTEM_KEYS, CODEC_ENDPOINT: 'token' } });
  // What anyone with access to the Temporal server (or its database) sees: no codec.
  plainClient = new Client({ connection: sys.temporal.connection, namespace: sys.config.TEMPORAL_NAMESPACE });
  outDir = mkdtempSync(join(tmpdir(), 'telewan-export-'));
}, 120_000);

afterAll(async () => {
  await sys?.teardown();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

const systemClient = () =>
  new Client({ connection: sys.temporal.connection, namespace: sys.config.TEMPORAL_NAMESPACE, dataConverter: encryptedDataConverter(parseEncryptionKeys(SYSTEM_KEYS)) });

/** The message and stack trace of every failure in a history, as the server stores them. */
function failureTextsOf(historyJson: string): string[] {
  const found: string[] = [];
  const walk = (node: unknown, key = ''): void => {
    if (Array.isArray(node)) node.forEach((n) => walk(n, key));
    else if (node && typeof node === 'object') Object.entries(node).forEach(([k, v]) => walk(v, k));
    else if ((key === 'message' || key === 'stackTrace') && typeof node === 'string') found.push(node);
  };
  walk(JSON.parse(historyJson));
  return found;
}

/**
 * Every payload's bytes in a history as the server stores it, and each payload's
 * encoding; search attributes apart (`indexed`, by name): the server indexes them,
 * so they are never encrypted.
 */
function payloadsOf(historyJson: string, indexed = new Set<string>()): Array<{ encoding: string; data: string }> {
  const found: Array<{ encoding: string; data: string }> = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      const { metadata, data, indexedFields } = node as { metadata?: Record<string, string>; data?: string; indexedFields?: Record<string, unknown> };
      if (indexedFields && typeof indexedFields === 'object') {
        for (const name of Object.keys(indexedFields)) indexed.add(name);
        Object.entries(node).filter(([k]) => k !== 'indexedFields').forEach(([, v]) => walk(v));
        return;
      }
      if (metadata && typeof metadata.encoding === 'string') {
        found.push({ encoding: Buffer.from(metadata.encoding, 'base64').toString(), data: Buffer.from(data ?? '', 'base64').toString('latin1') });
      } else Object.values(node).forEach(walk);
    }
  };
  walk(JSON.parse(historyJson));
  return found;
}

interface JsonPayloadOut {
  metadata: { encoding: string };
  data: string;
}

const CHAT = 731_977;
const CAPTION = 'a lighthouse keeper named Oriane paints the storm';

describe('payload encryption on a real Temporal server', () => {
  let videoId: string;

  it('keeps chat ids, prompts and summaries out of the stored history, while the service reads them fine', async () => {
    const update = await sys.telegram!.makePhotoUpdate({ chatId: CHAT, userId: CHAT, caption: CAPTION });
    expect((await sys.telegram!.pushUpdate(update)).status).toBe(200);
    videoId = videoWorkflowId(CHAT, update.message!.message_id);

    expect((await postApi(sys, '/sources', { slug: 'secrets', title: 'Quiet Source Quarterly' })).status).toBe(201);
    await sys.db.prisma.telegramUser.create({ data: { id: BigInt(CHAT + 1), chatId: BigInt(CHAT + 1) } });
    const source = await sys.db.prisma.source.findUniqueOrThrow({ where: { slug: 'secrets' } });
    await sys.db.prisma.subscription.create({ data: { userId: BigInt(CHAT + 1), sourceId: source.id } });
    const summaryText = 'Confidential: the merger closes on Thursday.';
    const accepted = await postApi(sys, '/summaries', { source: 'secrets', externalId: 'e2e-1', title: 'Hush', text: summaryText });
    expect(accepted.status).toBe(202);
    const summaryWorkflowId = (accepted.body as { workflowId: string }).workflowId;

    // A user who blocked the bot: Telegram's refusal names the chat, in a failure message.
    const BLOCKED = CHAT + 2;
    sys.telegram!.setChat(BLOCKED, 'blocked');
    const blockedUpdate = await sys.telegram!.makePhotoUpdate({ chatId: BLOCKED, userId: BLOCKED, caption: 'never seen' });
    expect((await sys.telegram!.pushUpdate(blockedUpdate)).status).toBe(200);
    const blockedId = videoWorkflowId(BLOCKED, blockedUpdate.message!.message_id);

    // The service (its codec) reads results as usual.
    const client = systemClient();
    const outcome = (await client.workflow.getHandle(videoId).result()) as VideoOutcome;
    expect(outcome).toMatchObject({ status: 'completed', resultVia: 'callback' });
    expect(await client.workflow.getHandle(summaryWorkflowId).result()).toMatchObject({ total: 1, sent: 1 });
    expect(sys.telegram!.messagesTo(CHAT + 1).some((m) => m.text?.includes(summaryText))).toBe(true);

    expect(await client.workflow.getHandle(blockedId).result()).toMatchObject({ status: 'failed', reason: 'blocked' });

    // Without the codec, nothing readable: results do not decode...
    await expect(plainClient.workflow.getHandle(videoId).result()).rejects.toThrow();
    // ...and no payload of either history holds the chat id, the prompt or the summary.
    for (const id of [videoId, summaryWorkflowId, blockedId]) {
      const raw = historyToJSON(await plainClient.workflow.getHandle(id).fetchHistory());
      const indexed = new Set<string>();
      const payloads = payloadsOf(raw, indexed);
      // Search attributes are the one thing in clear, by design: Telewan's own (chat id, kind, slug, outcome)
      // and Temporal's (`TemporalChangeVersion`, the patches).
      const ours = (name: string) => SEARCH_ATTRIBUTES.some((key) => key.name === name) || name.startsWith('Temporal');
      expect([...indexed].filter((name) => !ours(name))).toEqual([]);
      expect(indexed.size).toBeGreaterThan(0);
      // A local activity's marker keeps the SDK's own bookkeeping in clear beside its encrypted result.
      const localActivityData = (data: string) => /^\{"seq":\d+,"attempt":\d+,"activity_id":"\d+","activity_type":"[A-Za-z]+",/.test(data);
      const userPayloads = payloads.filter((p) => p.encoding !== 'json/plain' || !(/^\{"id":"|^\[/.test(p.data) || localActivityData(p.data)));
      expect(userPayloads.length).toBeGreaterThan(5);
      for (const p of userPayloads) {
        expect(p.encoding).toBe('binary/encrypted');
        expect(p.data).not.toContain(String(CHAT));
        expect(p.data).not.toContain(String(BLOCKED));
        expect(p.data).not.toContain('lighthouse');
        expect(p.data).not.toContain('merger');
      }
      // Only the SDK's own patch markers and search attributes stay in clear (no user data): ids of lower-case letters, digits and dashes.
      for (const p of payloads.filter((q) => q.encoding === 'json/plain')) {
        if (localActivityData(p.data)) {
          // seq, attempt, ids, times and the backoff: nothing the user wrote or is.
          const keys = Object.keys(JSON.parse(p.data) as object);
          expect(keys.every((k) => ['seq', 'attempt', 'activity_id', 'activity_type', 'complete_time', 'backoff', 'original_schedule_time'].includes(k))).toBe(true);
        } else {
          expect(p.data).toMatch(/^\{"id":"[a-z0-9-]+","deprecated":(true|false)\}$|^\[("[a-z0-9-]+",?)*\]$/);
        }
      }
      expect(raw).not.toContain(Buffer.from(CAPTION).toString('base64').slice(0, 24));
      // Failure messages are encoded too (they would name the chat).
      for (const text of failureTextsOf(raw)) expect(text).not.toMatch(new RegExp(`${CHAT}|${BLOCKED}|blocked by the user`));
    }
    const blockedFailures = failureTextsOf(historyToJSON(await plainClient.workflow.getHandle(blockedId).fetchHistory()));
    expect(blockedFailures).toContain('Encoded failure');
  });

  it('exports a finished workflow as a replay fixture that replays with the test key', async () => {
    const result = await exportHistory({
      client: plainClient,
      workflowId: videoId,
      dir: outDir,
      name: 'exported-video.json',
      replayKeyId: parseEncryptionKeys(TEST_PAYLOAD_ENCRYPTION_KEYS)[0]!.id,
      reencrypt: { replay: new EncryptionCodec(parseEncryptionKeys(TEST_PAYLOAD_ENCRYPTION_KEYS)), source: new EncryptionCodec(parseEncryptionKeys(SYSTEM_KEYS)) },
    });
    expect(result.path).toBe(join(outDir, 'exported-video.json'));
    expect(result.reencrypted).toBeGreaterThan(5);
    const history = JSON.parse(readFileSync(result.path, 'utf8')) as { events: unknown[] };
    expect(history.events.length).toBe(result.events);
    expect(JSON.stringify(history)).not.toContain(Buffer.from('prod-like').toString('base64'));
    await expect(Worker.runReplayHistory({ workflowBundle: await bundleWorkflows(), dataConverter: testDataConverter() }, history, videoId)).resolves.toBeUndefined();

    // Without the server's keys the export refuses, rather than writing a fixture CI cannot decode.
    await expect(exportHistory({ client: plainClient, workflowId: videoId, dir: outDir, name: 'other.json', replayKeyId: 'test-only' })).rejects.toThrow(
      /encrypted with key\(s\) prod-like.*PAYLOAD_ENCRYPTION_KEYS/,
    );
    // And it never replaces a file.
    await expect(
      exportHistory({ client: plainClient, workflowId: videoId, dir: outDir, name: 'exported-video.json', replayKeyId: 'prod-like' }),
    ).rejects.toThrow(/exists/);
  });

  it('lets the temporal CLI read the history through the gateway’s codec endpoint, with the admin token', async () => {
    const cli = findTemporalBinary('cli')!;
    const show = (...extra: string[]) =>
      new Promise<string>((resolve, reject) =>
        execFile(cli, ['workflow', 'show', '-w', videoId, '--address', sys.temporal.address, '--output', 'json', ...extra], (err, stdout, stderr) =>
          err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
        ),
      );
    const codecFlags = ['--codec-endpoint', `${sys.gateway.url}/codec`];
    const input = (json: string) => {
      const [started] = (JSON.parse(json) as { events: Array<{ workflowExecutionStartedEventAttributes: { input: { payloads: JsonPayloadOut[] } } }> }).events;
      const [payload] = started!.workflowExecutionStartedEventAttributes.input.payloads;
      return { encoding: Buffer.from(payload!.metadata.encoding, 'base64').toString(), data: Buffer.from(payload!.data, 'base64').toString() };
    };
    const decoded = input(await show(...codecFlags, '--codec-auth', `Bearer ${TEST_ADMIN_TOKEN}`));
    expect(decoded.encoding).toBe('json/plain');
    expect(decoded.data).toContain(CAPTION);
    expect(input(await show()).encoding).toBe('binary/encrypted');
    await expect(show(...codecFlags)).rejects.toThrow();
  });
});
