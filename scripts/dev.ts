/**
 * `npm run dev`: the whole system on this machine. Starts the Temporal dev server
 * (with its Web UI, state kept in .data/), migrates the database, and runs the
 * gateway and a worker; without real tokens, Telegram and WaveSpeed are the
 * simulators and you can talk to the bot from this terminal. With DATABASE_URL
 * unset and no PostgreSQL at 127.0.0.1:5432, the database is an embedded one
 * kept in .data/pglite. What runs where is written to .data/stack.json for
 * `npm run demo`.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, renameSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { describeBootError, parseConfig } from '../src/config.js';
import { devDatabase, EmbeddedPostgresLockedError } from '../sandbox/dev/embedded-postgres.js';
import { loadOrCreateDevKeys } from '../sandbox/dev/encryption-key.js';
import { generateEncryptionKeyEntry } from '../src/temporal/encryption.js';
import { SANDBOX_DEFAULTS, startStack, type Stack } from '../sandbox/dev/stack.js';
import { removeStackState, SANDBOX_CHAT, STACK_STATE_FILE, writeStackState } from '../sandbox/dev/stack-state.js';
import { startTemporalDevServer, type DevServer } from '../sandbox/dev/temporal-server.js';
import { DEFAULT_DATABASE_URL, redact } from './lib/postgres.js';
import { DEFAULT_MIGRATIONS_DIR, deployMigrations } from './lib/migrate.js';
import { readMigrations } from './lib/migrations-dir.js';

const DEV_KEY_FILE = '.data/payload-encryption-keys';
const TEMPORAL_DB_FILE = '.data/temporal.sqlite';

async function main(): Promise<void> {
  const env = { ...process.env };
  const sandbox = !env.TELEGRAM_BOT_TOKEN || !env.WAVESPEED_API_KEY;
  // The operators' API (and so `npm run demo`) works out of the box in the sandbox.
  if (sandbox && !env.ADMIN_TOKEN) env.ADMIN_TOKEN = randomBytes(24).toString('base64url');
  // Fail before starting anything when a variable is wrong.
  // (A missing payload key is not wrong here: the dev key is made below.)
  parseConfig({ ...(sandbox ? SANDBOX_DEFAULTS : {}), PAYLOAD_ENCRYPTION_KEYS: generateEncryptionKeyEntry('check'), ...env });
  if (!env.PAYLOAD_ENCRYPTION_KEYS) {
    const { keys, created } = loadOrCreateDevKeys(DEV_KEY_FILE);
    env.PAYLOAD_ENCRYPTION_KEYS = keys;
    console.log(`payloads   encrypted with the dev key in ${DEV_KEY_FILE}${created ? ' (new)' : ''}`);
  }

  const database = await devDatabase({
    databaseUrl: env.DATABASE_URL || undefined,
    defaultUrl: DEFAULT_DATABASE_URL,
    probe: { host: '127.0.0.1', port: 5432 },
  });
  env.DATABASE_URL = database.url;
  const { applied } = await deployMigrations(env.DATABASE_URL);
  const kind = database.embedded ? `embedded PGlite in ${database.embedded.dataDir}, ` : '';
  console.log(`database   ${redact(env.DATABASE_URL)} (${kind}${applied.length ? `applied ${applied.join(', ')}` : 'up to date'})`);

  env.GATEWAY_PORT ??= '8080';
  const gatewayHost = !env.GATEWAY_HOST || env.GATEWAY_HOST === '0.0.0.0' ? '127.0.0.1' : env.GATEWAY_HOST;
  // The dev UI has no login to forward, and the gateway listens on loopback.
  env.CODEC_ENDPOINT ??= gatewayHost === '127.0.0.1' ? 'open' : 'token';
  const codecEndpoint = `http://${gatewayHost}:${env.GATEWAY_PORT}/codec`;

  let temporal: DevServer | undefined;
  if (!env.TEMPORAL_ADDRESS) {
    // Workflow ids come from database rows (summary-<id>) and chats: a new, empty
    // database next to an old history would meet its finished workflows again.
    const [oldest] = (await readMigrations(DEFAULT_MIGRATIONS_DIR)).migrationDirectories;
    if (oldest && applied[0] === oldest.path && existsSync(TEMPORAL_DB_FILE)) {
      const kept = `${TEMPORAL_DB_FILE}.${Date.now()}.old`;
      renameSync(TEMPORAL_DB_FILE, kept);
      console.log(`temporal   new database, so a new workflow history (the old one is in ${kept})`);
    }
    temporal = await startTemporalDevServer({ dbFile: TEMPORAL_DB_FILE, uiCodecEndpoint: codecEndpoint });
    env.TEMPORAL_ADDRESS = temporal.address;
    env.TEMPORAL_UI_URL = temporal.uiUrl;
  }
  const stack = await startStack({
    env,
    sandbox,
    // Temporal keeps its history across restarts (.data/temporal.sqlite), so message
    // ids, and with them workflow ids, must not start again at 1: seconds since 2025
    // stay ahead of any earlier session that sent less than a message a second.
    telegram: { firstMessageId: Math.floor((Date.now() - Date.UTC(2025, 0, 1)) / 1000) },
    wavespeed: { latencyMs: [4000, 8000] },
  });
  const { config } = stack;
  console.log(`temporal   ${config.TEMPORAL_ADDRESS}   Web UI: ${config.TEMPORAL_UI_URL}   namespace: ${config.TEMPORAL_NAMESPACE}`);
  console.log(`gateway    ${stack.gateway.url}   (POST /telegram/webhook, POST /webhooks/wavespeed/:id, /api/*, GET /readyz)`);
  console.log(`metrics    ${stack.gateway.url}/metrics   worker: ${stack.worker?.metricsUrl ?? '(no worker)'}`);
  const version = stack.worker?.version;
  if (version) console.log(`build      ${version.deploymentName} ${version.buildId} (${stack.worker?.promotion}; docs/operations.md, "Deploying a new build")`);
  console.log(`codec      ${codecEndpoint} (${config.CODEC_ENDPOINT}; the Web UI decodes payloads with it)`);
  writeStackState({
    pid: process.pid,
    startedAt: new Date().toISOString(),
    gatewayUrl: stack.gateway.url,
    temporal: { address: config.TEMPORAL_ADDRESS, uiUrl: config.TEMPORAL_UI_URL, namespace: config.TEMPORAL_NAMESPACE },
    telegram: stack.telegram && { apiRoot: stack.telegram.apiRoot },
    wavespeed: stack.wavespeed && { apiRoot: config.WAVESPEED_API_ROOT },
    adminToken: config.ADMIN_TOKEN,
    payloadEncryptionKeys: env.PAYLOAD_ENCRYPTION_KEYS,
    sandboxChatId: SANDBOX_CHAT,
    database: redact(env.DATABASE_URL),
  });
  console.log(`state      ${STACK_STATE_FILE} (URLs and the admin token, for \`npm run demo\`)`);
  if (sandbox) {
    console.log(`telegram   simulator at ${config.TELEGRAM_API_ROOT}`);
    console.log(`wavespeed  simulator at ${config.WAVESPEED_API_ROOT}`);
    console.log('\nSandbox: type a caption to send the bot a photo with it, or a command such as /start, /status, /cancel.');
    console.log('Or run `npm run demo` in another terminal.');
    sandboxConsole(stack);
  }

  const stop = async () => {
    removeStackState();
    await stack.stop();
    await temporal?.stop();
    await database.stop();
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
  console.error(err instanceof EmbeddedPostgresLockedError ? err.message : describeBootError(err));
  process.exit(1);
});
