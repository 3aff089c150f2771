/**
 * Sandbox mode: runs both simulators until SIGINT/SIGTERM.
 *
 * Environment: TELEGRAM_SIM_PORT (8081), WAVESPEED_SIM_PORT (8082), SIM_HOST (127.0.0.1),
 * TELEGRAM_BOT_TOKEN, WAVESPEED_API_KEY, WAVESPEED_WEBHOOK_SECRET,
 * TELEGRAM_SIM_LATENCY_MS, TELEGRAM_SIM_ERROR_RATE, TELEGRAM_SIM_RATE_LIMITS (enforce|off),
 * WAVESPEED_SIM_LATENCY_MS (a number or "min-max"), WAVESPEED_SIM_FAILURE_RATE,
 * WAVESPEED_SIM_NSFW_RATE, WAVESPEED_SIM_LOST_CALLBACK_RATE, WAVESPEED_SIM_MAX_CONCURRENT,
 * WAVESPEED_SIM_PER_MINUTE, WAVESPEED_SIM_OUTPUT_BYTES.
 */
import type { Latency } from './shared/timers.js';
import { SANDBOX_BOT_TOKEN, SANDBOX_WAVESPEED_KEY, startSimulators } from './index.js';

function num(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new Error(`${name} must be a number, got "${raw}"`);
  return n;
}

function latency(name: string): Latency | undefined {
  const raw = process.env[name];
  const range = raw ? /^(\d+)\s*-\s*(\d+)$/.exec(raw) : null;
  return range ? [Number(range[1]), Number(range[2])] : num(name);
}

async function main(): Promise<void> {
  const host = process.env['SIM_HOST'] ?? '127.0.0.1';
  const token = process.env['TELEGRAM_BOT_TOKEN'] ?? SANDBOX_BOT_TOKEN;
  const apiKey = process.env['WAVESPEED_API_KEY'] ?? SANDBOX_WAVESPEED_KEY;
  const rateLimitMode = process.env['TELEGRAM_SIM_RATE_LIMITS'] === 'off' ? 'off' : 'enforce';
  const sims = await startSimulators({
    telegram: {
      token,
      host,
      port: num('TELEGRAM_SIM_PORT') ?? 8081,
      latencyMs: latency('TELEGRAM_SIM_LATENCY_MS'),
      serverErrorRate: num('TELEGRAM_SIM_ERROR_RATE'),
      rateLimitMode,
      logger: process.env['SIM_LOG'] === '1',
    },
    wavespeed: {
      apiKey,
      host,
      port: num('WAVESPEED_SIM_PORT') ?? 8082,
      webhookSecret: process.env['WAVESPEED_WEBHOOK_SECRET'] || undefined,
      latencyMs: latency('WAVESPEED_SIM_LATENCY_MS') ?? [8000, 20000],
      failureRate: num('WAVESPEED_SIM_FAILURE_RATE'),
      nsfwRate: num('WAVESPEED_SIM_NSFW_RATE'),
      lostCallbackRate: num('WAVESPEED_SIM_LOST_CALLBACK_RATE'),
      maxConcurrent: num('WAVESPEED_SIM_MAX_CONCURRENT'),
      perMinuteLimit: num('WAVESPEED_SIM_PER_MINUTE'),
      outputBytes: num('WAVESPEED_SIM_OUTPUT_BYTES'),
      logger: process.env['SIM_LOG'] === '1',
    },
  });

  process.stdout.write(
    [
      `Telegram Bot API simulator: ${sims.telegramApiRoot}  (token ${token})`,
      `WaveSpeed API simulator:    ${sims.wavespeedBaseUrl}  (key ${apiKey}, webhook secret ${sims.wavespeed.webhookSecret})`,
      'Ctrl-C to stop.',
      '',
    ].join('\n'),
  );

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${signal}: stopping simulators\n`);
    sims.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`failed to stop cleanly: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch((err: unknown) => {
  process.stderr.write(`simulators failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
