/**
 * `npm run dev`: the whole system on this machine. Starts the Temporal dev server
 * (with its Web UI, state kept in .data/), migrates the database, and runs the
 * gateway and a worker; without real tokens, Telegram and WaveSpeed are the
 * simulators and you can talk to the bot from this terminal.
 */
import { createInterface } from 'node:readline';
import { loadOrCreateDevKeys } from '../src/dev/encryption-key.js';
import { startStack, type Stack } from '../src/dev/stack.js';
import { startTemporalDevServer, type DevServer } from '../src/dev/temporal-server.js';
import { DEFAULT_DATABASE_URL, redact } from './lib/postgres.js';
import { deployMigrations } from './lib/migrate.js';

const SANDBOX_CHAT = 1001;
const DEV_KEY_FILE = '.data/payload-encryption-keys';

async function main(): Promise<void> {
  const env = { ...process.env };
  env.DATABASE_URL ??= DEFAULT_DATABASE_URL;
  const sandbox = !env.TELEGRAM_BOT_TOKEN || !env.WAVESPEED_API_KEY;

  const { applied } = await deployMigrations(env.DATABASE_URL);
  console.log(`database   ${redact(env.DATABASE_URL)} (${applied.length ? `applied ${applied.join(', ')}` : 'up to date'})`);

  if (!env.PAYLOAD_ENCRYPTION_KEYS) {
    const { keys, created } = loadOrCreateDevKeys(DEV_KEY_FILE);
    env.PAYLOAD_ENCRYPTION_KEYS = keys;
    console.log(`payloads   encrypted with the dev key in ${DEV_KEY_FILE}${created ? ' (new)' : ''}`);
  }
  env.GATEWAY_PORT ??= '8080';
  const gatewayHost = !env.GATEWAY_HOST || env.GATEWAY_HOST === '0.0.0.0' ? '127.0.0.1' : env.GATEWAY_HOST;
  // The dev UI has no login to forward, and the gateway listens on loopback.
  env.CODEC_ENDPOINT ??= gatewayHost === '127.0.0.1' ? 'open' : 'token';
  const codecEndpoint = `http://${gatewayHost}:${env.GATEWAY_PORT}/codec`;

  let temporal: DevServer | undefined;
  if (!env.TEMPORAL_ADDRESS) {
    temporal = await startTemporalDevServer({ dbFile: '.data/temporal.sqlite', uiCodecEndpoint: codecEndpoint });
    env.TEMPORAL_ADDRESS = temporal.address;
    env.TEMPORAL_UI_URL = temporal.uiUrl;
  }
  const stack = await startStack({
    env,
    sandbox,
    wavespeed: { latencyMs: [4000, 8000] },
  });
  console.log(`temporal   ${stack.config.TEMPORAL_ADDRESS}   Web UI: ${stack.config.TEMPORAL_UI_URL}`);
  console.log(`gateway    ${stack.gateway.url}   (POST /telegram/webhook, POST /webhooks/wavespeed/:id, GET /readyz)`);
  console.log(`metrics    ${stack.gateway.url}/metrics   worker: ${stack.worker?.metricsUrl ?? '(no worker)'}`);
  console.log(`codec      ${codecEndpoint} (${stack.config.CODEC_ENDPOINT}; the Web UI decodes payloads with it)`);
  if (sandbox) {
    console.log(`telegram   simulator at ${stack.config.TELEGRAM_API_ROOT}`);
    console.log(`wavespeed  simulator at ${stack.config.WAVESPEED_API_ROOT}`);
    console.log('\nSandbox: type a caption to send the bot a photo with it, or a command such as /start, /status, /cancel.');
    sandboxConsole(stack);
  }

  const stop = async () => {
    await stack.stop();
    await temporal?.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

/** Lets a developer play the Telegram user; prints what the bot sends back. */
function sandboxConsole(stack: Stack): void {
  const telegram = stack.telegram!;
  let seen = 0;
  const timer = setInterval(() => {
    const messages = telegram.messagesTo(SANDBOX_CHAT);
    for (const m of messages.slice(seen)) console.log(`bot> ${m.video ? `[video ${m.video.file_id}] ` : ''}${m.text ?? m.caption ?? ''}`);
    seen = messages.length;
  }, 250);
  timer.unref();
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    const text = line.trim();
    if (!text) return;
    void (async () => {
      const update = text.startsWith('/')
        ? telegram.makeTextUpdate({ chatId: SANDBOX_CHAT, userId: SANDBOX_CHAT, text })
        : await telegram.makePhotoUpdate({ chatId: SANDBOX_CHAT, userId: SANDBOX_CHAT, caption: text });
      const res = await telegram.pushUpdate(update);
      if (res.status !== 200) console.log(`gateway answered ${res.status}: ${res.body}`);
    })();
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
