import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bundleWorkflowCode, type Logger as TemporalLogger } from '@temporalio/worker';
import { failureConverterPath } from '../encryption.js';
import { workflowsPath } from './workflows-path.js';

/** The workflow bundle as the worker loads it: from a file, or from memory when it had to be built here. */
export type WorkflowBundle = { codePath: string } | { code: string };

/**
 * Builds the bundle in this process (webpack): what {@link buildWorkflowBundle} falls back to.
 *
 * Telewan's own workflow modules (the workflows' entry and everything it
 * imports: src/workflows, src/errors.ts, src/constants.ts…, and the failure
 * converter) are preloaded: evaluated once per workflow thread and shared, frozen,
 * by every workflow in its cache (the SDK's `preloadModules`). Otherwise the
 * reusable V8 context evaluates them again for each workflow it starts or
 * replays, and each cached workflow kept its own copy (its functions, classes,
 * activity proxies, module objects and export getters): some 65 KB of a cached
 * imageToVideo's ~130 KB of workflow-thread heap, measured with
 * bench/workflow-memory.ts. The SDK's own libraries are shared already
 * (worker-interface loads them before any workflow).
 *
 * So these modules must hold no per-workflow state at module level: no
 * top-level `let`, no module-level Map, Set or object that a workflow changes
 * (it would be shared by every workflow of the thread; exported objects are
 * frozen, so changing one throws). test/temporal/workflow-bundle.test.ts checks it.
 */
export function bundleHere(logger?: TemporalLogger): Promise<{ code: string }> {
  const workflows = workflowsPath();
  const failures = failureConverterPath();
  return bundleWorkflowCode({ workflowsPath: workflows, failureConverterPath: failures, logger, preloadModules: [workflows, failures] });
}

/**
 * Builds the workflow bundle in a short-lived child process and hands back the
 * file it wrote.
 *
 * Webpack needs some 150–250 MB to bundle the workflows, and a Node process
 * does not give that memory back to the system once its heap has grown: built
 * in the worker, it stayed in the worker's RSS for the process's whole life,
 * beside the thousands of workflows the cache holds. Built apart, the worker
 * only ever reads the finished file. If the child cannot run (no `tsx`, a
 * read-only temporary folder), the bundle is built here as before. Compiled
 * with `npm run build`, the worker loads the bundle the build wrote instead
 * ({@link prebuiltBundlePath}).
 */
export async function buildWorkflowBundle(logger: TemporalLogger): Promise<{ bundle: WorkflowBundle; cleanup: () => Promise<void> }> {
  const prebuilt = prebuiltBundlePath();
  if (prebuilt) {
    logger.info('Loading the workflow bundle npm run build wrote', { workflowBundle: prebuilt });
    return { bundle: { codePath: prebuilt }, cleanup: async () => undefined };
  }
  const dir = await mkdtemp(join(tmpdir(), 'telewan-workflows-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  const codePath = join(dir, 'workflows.js');
  try {
    await runChild(codePath);
    return { bundle: { codePath }, cleanup };
  } catch (err) {
    await cleanup();
    logger.warn('Could not build the workflow bundle in a child process; building it in the worker', { error: String(err) });
    return { bundle: await bundleHere(logger), cleanup: async () => undefined };
  }
}

/** Where `npm run build` writes the bundle beside the compiled code (`dist/workflow-bundle.js`). */
const PREBUILT_BUNDLE_FILE = 'workflow-bundle.js';

/**
 * The bundle `npm run build` wrote, when this module runs compiled from `dist`
 * (the production image): the worker then bundles nothing and needs neither
 * webpack's memory nor `tsx`. Running from source there is none: the bundle is
 * always built from the code being run.
 */
function prebuiltBundlePath(): string | undefined {
  if (!import.meta.url.endsWith('.js')) return undefined;
  const file = fileURLToPath(new URL(`../../${PREBUILT_BUNDLE_FILE}`, import.meta.url));
  return existsSync(file) ? file : undefined;
}

function runChild(codePath: string): Promise<void> {
  const cli = fileURLToPath(new URL(`./workflow-bundle-cli.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url));
  // Resolved from here, not from the working directory the worker was started in.
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', tsx, cli, codePath], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-2000);
    });
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`the bundler exited with ${signal ?? code}: ${stderr.trim() || 'no output'}`)),
    );
  });
}
