/**
 * `npm run redrive -- <workflowId> [reason…]`: asks the gateway's operators' API
 * to retry a failed video generation or summary distribution from where it
 * failed (`POST /api/workflows/:workflowId/redrive`). Reads `ADMIN_TOKEN` and
 * `TELEWAN_API_URL` (default `http://GATEWAY_HOST:GATEWAY_PORT`) from the
 * environment. Exits 1 when the gateway refuses, saying why.
 */
import { configSchema } from '../src/config.js';

async function main(): Promise<number> {
  const [workflowId, ...words] = process.argv.slice(2);
  if (!workflowId || workflowId.startsWith('-')) {
    console.error('usage: npm run redrive -- <workflowId> [reason…]   e.g. npm run redrive -- video-1001-3 sendVideo fixed');
    return 2;
  }
  const env = Object.fromEntries(Object.entries(process.env).filter(([, v]) => v !== undefined && v !== ''));
  const config = configSchema.pick({ ADMIN_TOKEN: true, GATEWAY_HOST: true, GATEWAY_PORT: true }).parse(env);
  if (!config.ADMIN_TOKEN) {
    console.error('Set ADMIN_TOKEN to the gateway\'s operators\' API token.');
    return 2;
  }
  const base = process.env.TELEWAN_API_URL || `http://${config.GATEWAY_HOST}:${config.GATEWAY_PORT}`;
  const reason = words.join(' ').trim();
  const res = await fetch(`${base.replace(/\/$/, '')}/api/workflows/${encodeURIComponent(workflowId)}/redrive`, {
    method: 'POST',
    headers: { authorization: `Bearer ${config.ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(reason ? { reason } : {}),
  });
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (res.status !== 202) {
    console.error(`${res.status} ${String(body.message ?? res.statusText)}`);
    return 1;
  }
  console.log(`${workflowId}: ${body.how === 'reset' ? 'reset' : 'new run'} ${String(body.runId)} from ${String(body.from)} (failed run ${String(body.failedRunId)})`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
