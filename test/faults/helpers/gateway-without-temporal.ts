import { parseConfig } from '../../../src/config.js';
import { SANDBOX_API_KEY, SANDBOX_TOKEN, SANDBOX_WEBHOOK_SECRET } from '../../../sandbox/dev/stack.js';
import { startGateway, type RunningGateway } from '../../../src/gateway/server.js';
import { createLogger } from '../../../src/observability/logger.js';
import { TelegramSimulator } from '../../../sandbox/simulators/telegram.js';
import { TEST_PAYLOAD_ENCRYPTION_KEYS } from '../../helpers/encryption.js';
import { freePort } from './ports.js';

/**
 * The real gateway, webhook set on a Telegram simulator, pointed at a loopback
 * port nobody listens on: every workflow start fails UNAVAILABLE and is retried
 * until the gateway's 5 s deadline.
 */
export async function startGatewayWithoutTemporal(): Promise<{ telegram: TelegramSimulator; gateway: RunningGateway }> {
  const telegram = new TelegramSimulator({ token: SANDBOX_TOKEN });
  const apiRoot = await telegram.start();
  const config = parseConfig({
    DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/telewan',
    TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`,
    GATEWAY_PORT: '0',
    TELEGRAM_BOT_TOKEN: SANDBOX_TOKEN,
    TELEGRAM_WEBHOOK_SECRET: SANDBOX_WEBHOOK_SECRET,
    TELEGRAM_API_ROOT: apiRoot,
    WAVESPEED_API_KEY: SANDBOX_API_KEY,
    WAVESPEED_WEBHOOK_SECRET: `whsec_${'0'.repeat(32)}`,
    PAYLOAD_ENCRYPTION_KEYS: TEST_PAYLOAD_ENCRYPTION_KEYS,
    LOG_LEVEL: 'silent',
  });
  const gateway = await startGateway(config, { logger: createLogger({ level: 'silent', secrets: [] }), botInfo: telegram.botInfo as never });
  telegram.setWebhookTarget(`${gateway.url}/telegram/webhook`, SANDBOX_WEBHOOK_SECRET);
  return { telegram, gateway };
}
