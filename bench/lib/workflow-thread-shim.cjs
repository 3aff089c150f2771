/* eslint-disable @typescript-eslint/no-require-imports -- the CommonJS entry of a worker thread, run in place of the SDK's */
// Loaded in place of the SDK's workflow-worker-thread.js (see workflow-memory-worker.ts):
// answers heap samples over a BroadcastChannel, then runs the SDK's thread as usual.
const { workerData, threadId, BroadcastChannel } = require('node:worker_threads');
const v8 = require('node:v8');

const channel = new BroadcastChannel('telewan-workflow-memory');
channel.unref();
channel.onmessage = ({ data }) => {
  if (data?.type !== 'sample') return;
  const before = v8.getHeapStatistics();
  if (data.gc && typeof globalThis.gc === 'function') globalThis.gc();
  const after = v8.getHeapStatistics();
  const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, Math.round(s.space_used_size / 2 ** 20)]));
  channel.postMessage({ type: 'heap', id: data.id, threadId, before, after, spaces });
};
if (process.env.WM_NO_PROMISE_HOOK === '1') {
  // Experiment: what the SDK's per-promise stack capture (for the stack trace query) keeps.
  v8.promiseHooks.createHook = () => {
    throw new Error('disabled by WM_NO_PROMISE_HOOK');
  };
}
require(workerData.__workflowThreadTarget);
