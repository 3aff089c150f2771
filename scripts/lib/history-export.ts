import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { ENCRYPTED_ENCODING, KEY_ID_METADATA } from '../../src/temporal/encryption.js';

const ENCRYPTED_B64 = Buffer.from(ENCRYPTED_ENCODING).toString('base64');

export interface ExportOptions {
  /** A client without a codec: the history is read as the server stores it. */
  client: Client;
  workflowId: string;
  runId?: string;
  /** File name in `dir`; `<workflowId>.json` by default. */
  name?: string;
  dir: string;
  overwrite?: boolean;
  /** Key id the replay tests decode with; payloads under any other key must be re-encrypted. */
  replayKeyId: string;
  /** The replay tests' codec, and the server's codec (its keys) to decrypt payloads with. */
  reencrypt?: { replay: PayloadCodec; source: PayloadCodec };
}

interface JsonPayload {
  metadata: Record<string, string>;
  data?: string;
}

/** Every encrypted payload in a JSON history (they are objects with `metadata.encoding` = binary/encrypted). */
function encryptedPayloads(node: unknown, found: JsonPayload[] = []): JsonPayload[] {
  if (Array.isArray(node)) for (const item of node) encryptedPayloads(item, found);
  else if (node !== null && typeof node === 'object') {
    const meta = (node as { metadata?: unknown }).metadata;
    if (meta && typeof meta === 'object' && (meta as Record<string, unknown>).encoding === ENCRYPTED_B64) found.push(node as JsonPayload);
    else for (const value of Object.values(node)) encryptedPayloads(value, found);
  }
  return found;
}

const keyIdOf = (p: JsonPayload) => Buffer.from(p.metadata[KEY_ID_METADATA] ?? '', 'base64').toString();
const toPayload = (p: JsonPayload) => ({
  metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data ?? '', 'base64'),
});

/**
 * Fetches a workflow's history from the server and writes it where the replay
 * tests read it, in the same JSON as `npm run history:record`. Payloads encrypted
 * under a key other than the replay tests' are decrypted with the server's keys and
 * re-encrypted with the test key, or the export stops saying so.
 */
export async function exportHistory(options: ExportOptions): Promise<{ path: string; events: number; reencrypted: number }> {
  const file = options.name ?? `${options.workflowId}.json`;
  if (basename(file) !== file || !file.endsWith('.json')) throw new Error(`--name must be a plain file name ending in .json, got "${file}"`);
  const path = join(options.dir, file);
  if (existsSync(path) && !options.overwrite) throw new Error(`${path} exists: choose another --name (committed histories are never replaced)`);

  const history = await options.client.workflow.getHandle(options.workflowId, options.runId).fetchHistory();
  const json = JSON.parse(historyToJSON(history)) as { events?: unknown[] };
  const foreign = encryptedPayloads(json).filter((p) => keyIdOf(p) !== options.replayKeyId);
  if (foreign.length > 0) {
    const ids = [...new Set(foreign.map(keyIdOf))].join(', ');
    if (!options.reencrypt) {
      throw new Error(
        `The history's payloads are encrypted with key(s) ${ids}, which the replay tests do not have: set PAYLOAD_ENCRYPTION_KEYS to the server's keys to re-encrypt them with the test key`,
      );
    }
    const plain = await options.reencrypt.source.decode(foreign.map(toPayload));
    const sealed = await options.reencrypt.replay.encode(plain);
    sealed.forEach((payload, i) => {
      const target = foreign[i]!;
      target.metadata = Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
      target.data = Buffer.from(payload.data ?? []).toString('base64');
    });
  }
  await mkdir(options.dir, { recursive: true });
  await writeFile(path, `${JSON.stringify(json, null, 1)}\n`);
  return { path, events: json.events?.length ?? 0, reencrypted: foreign.length };
}
