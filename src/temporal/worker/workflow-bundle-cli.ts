/**
 * Writes the workflow bundle to the file named by its one argument; run by
 * `buildWorkflowBundle` in a child process so webpack's memory never stays in
 * the worker, and by `npm run build` (compiled, `dist/workflow-bundle.js`) so a
 * production worker bundles nothing. Exits non-zero with the error on standard error.
 */
import { writeFile } from 'node:fs/promises';
import { bundleHere } from './workflow-bundle.js';

const out = process.argv[2];
if (!out) {
  console.error('usage: workflow-bundle-cli <output file>');
  process.exit(2);
}
const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
try {
  const { code } = await bundleHere(quiet as never);
  await writeFile(out, code);
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
}
