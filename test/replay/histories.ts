import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * Every committed history under test/replay, subfolders included: plaintext ones
 * from before encryption, `encrypted/` (recorded with the test key) and exported ones.
 */
export function recordedHistories(): Array<{ file: string; workflowId: string; history: unknown }> {
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, workflowId: file.replace(/\.json$/, ''), history: JSON.parse(readFileSync(`${root}${file}`, 'utf8')) as unknown }));
}
