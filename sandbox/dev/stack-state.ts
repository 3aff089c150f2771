import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Where `npm run dev` says what it runs, for `npm run demo` and other tools. */
export const STACK_STATE_FILE = '.data/stack.json';

/** The sandbox's Telegram user: the `npm run dev` console and `npm run demo` talk as this chat. */
export const SANDBOX_CHAT = 1001;

/** What a running `npm run dev` serves. Holds the admin token: the file is the owner's only (0600). */
export interface StackState {
  pid: number;
  startedAt: string;
  gatewayUrl: string;
  temporal: { address: string; uiUrl: string; namespace: string };
  /** Present in sandbox mode: the simulators' roots (the Telegram one serves `/sandbox/*`). */
  telegram?: { apiRoot: string };
  wavespeed?: { apiRoot: string };
  /** Bearer token of the operators' API. */
  adminToken?: string;
  /** PAYLOAD_ENCRYPTION_KEYS of the running stack, so the demo's client reads its workflows (the file is 0600, like .data/payload-encryption-keys). */
  payloadEncryptionKeys?: string;
  sandboxChatId: number;
  /** DATABASE_URL with its password hidden. */
  database: string;
}

/** Raised by tools that need `npm run dev` when it is not running. */
export class StackNotRunningError extends Error {
  constructor(detail: string) {
    super(`The local stack is not running (${detail}). Start it with \`npm run dev\` in another terminal, then try again.`);
    this.name = 'StackNotRunningError';
  }
}

/** Writes the state atomically, readable by its owner only. */
export function writeStackState(state: StackState, file = STACK_STATE_FILE): void {
  mkdirSync(dirname(file), { recursive: true });
  const partial = `${file}.${process.pid}.tmp`;
  writeFileSync(partial, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(partial, file);
}

/** Removes the state file if this process wrote it. */
export function removeStackState(file = STACK_STATE_FILE, pid = process.pid): void {
  try {
    if ((JSON.parse(readFileSync(file, 'utf8')) as StackState).pid === pid) rmSync(file, { force: true });
  } catch {
    // Already gone or unreadable: nothing of ours to remove.
  }
}

/** Reads the state; {@link StackNotRunningError} when there is none. */
export function readStackState(file = STACK_STATE_FILE): StackState {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new StackNotRunningError(`no ${file}`);
  }
  try {
    const state = JSON.parse(text) as StackState;
    if (typeof state.gatewayUrl !== 'string' || typeof state.temporal?.uiUrl !== 'string') throw new Error('incomplete');
    if (!isAlive(state.pid)) throw new StackNotRunningError(`npm run dev (pid ${state.pid}) that wrote ${file} has exited`);
    return state;
  } catch (error) {
    if (error instanceof StackNotRunningError) throw error;
    throw new StackNotRunningError(`${file} is not a stack state`);
  }
}

function isAlive(pid: unknown): boolean {
  if (typeof pid !== 'number') return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}

/** Where the Temporal Web UI shows a workflow. */
export function workflowUrl(temporal: StackState['temporal'], workflowId: string): string {
  return `${temporal.uiUrl}/namespaces/${encodeURIComponent(temporal.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
