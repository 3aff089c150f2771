import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));

/** The committed histories: plaintext ones in test/replay, encrypted (test key) ones in test/replay/encrypted. */
export function recordedHistories(): Array<{ file: string; workflowId: string; history: unknown }> {
  return ['', 'encrypted/'].flatMap((sub) =>
    readdirSync(`${root}${sub}`)
      .filter((f) => f.endsWith('.json'))
      .map((f) => ({ file: `${sub}${f}`, workflowId: `${sub}${f}`.replace(/\.json$/, ''), history: JSON.parse(readFileSync(`${root}${sub}${f}`, 'utf8')) as unknown })),
  );
}
