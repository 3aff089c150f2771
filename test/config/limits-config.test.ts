import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.js';
import { WAVESPEED_LIST_PRICES } from '../../src/constants.js';
import { priceOf } from '../../src/pricing.js';
import { TEST_PAYLOAD_ENCRYPTION_KEYS } from '../helpers/encryption.js';

const BASE = { TELEGRAM_BOT_TOKEN: '1:abc', TELEGRAM_WEBHOOK_SECRET: 'secret', WAVESPEED_API_KEY: 'key', PAYLOAD_ENCRYPTION_KEYS: TEST_PAYLOAD_ENCRYPTION_KEYS };

function problemsOf(env: Record<string, string>): string[] {
  try {
    parseConfig({ ...BASE, ...env });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('limits, prices and update rate settings', () => {
  it('defaults to 2 running, refuse, 20 a day, no admins, 20 updates a minute and the list prices', () => {
    const config = parseConfig(BASE);

    expect(config).toMatchObject({
      USER_MAX_ACTIVE_GENERATIONS: 2,
      USER_EXCESS_POLICY: 'refuse',
      USER_DAILY_QUOTA: 20,
      ADMIN_CHAT_IDS: [],
      USER_UPDATE_RATE_LIMIT: { limit: 20, windowSeconds: 60 },
    });
    expect(config.WAVESPEED_PRICES).toEqual(WAVESPEED_LIST_PRICES);
    expect(priceOf(config.WAVESPEED_PRICES, 'wavespeed-ai/wan-2.2/i2v-480p')).toBe(0.15);
  });

  it('reads them from the environment, laying price overrides over the list prices', () => {
    const config = parseConfig({
      ...BASE,
      USER_MAX_ACTIVE_GENERATIONS: '3',
      USER_EXCESS_POLICY: 'queue',
      USER_DAILY_QUOTA: '0',
      ADMIN_CHAT_IDS: ' 42, -1001234 ,7',
      USER_UPDATE_RATE_LIMIT: '5/10s',
      WAVESPEED_PRICES: '{"wavespeed-ai/wan-2.2/i2v-720p":{"5":0.32,"10":0.7}}',
    });

    expect(config).toMatchObject({
      USER_MAX_ACTIVE_GENERATIONS: 3,
      USER_EXCESS_POLICY: 'queue',
      USER_DAILY_QUOTA: 0,
      ADMIN_CHAT_IDS: [42, -1001234, 7],
      USER_UPDATE_RATE_LIMIT: { limit: 5, windowSeconds: 10 },
    });
    expect(config.WAVESPEED_PRICES['wavespeed-ai/wan-2.2/i2v-720p']).toEqual({ 5: 0.32, 8: 0.48, 10: 0.7 });
    expect(config.WAVESPEED_PRICES['kwaivgi/kling-v2.1-i2v-pro']).toEqual(WAVESPEED_LIST_PRICES['kwaivgi/kling-v2.1-i2v-pro']);
    expect(parseConfig({ ...BASE, USER_UPDATE_RATE_LIMIT: 'off' }).USER_UPDATE_RATE_LIMIT).toBeUndefined();
  });

  it('names each bad setting', () => {
    expect(problemsOf({ USER_MAX_ACTIVE_GENERATIONS: '0' })[0]).toMatch(/^USER_MAX_ACTIVE_GENERATIONS:/);
    expect(problemsOf({ USER_EXCESS_POLICY: 'wait' })[0]).toMatch(/^USER_EXCESS_POLICY:/);
    expect(problemsOf({ ADMIN_CHAT_IDS: '42;43' })).toEqual(['ADMIN_CHAT_IDS: must be chat ids separated by commas, e.g. 123,456']);
    expect(problemsOf({ USER_UPDATE_RATE_LIMIT: '20/min' })).toEqual(['USER_UPDATE_RATE_LIMIT: must be <updates>/<seconds>s, e.g. 20/60s, or off']);
    expect(problemsOf({ WAVESPEED_PRICES: '{not json' })).toEqual(['WAVESPEED_PRICES: is not valid JSON']);
    expect(problemsOf({ WAVESPEED_PRICES: '{"acme/unknown":{"5":1}}' })[0]).toMatch(/^WAVESPEED_PRICES/);
    expect(problemsOf({ WAVESPEED_PRICES: '{"kwaivgi/kling-v2.1-i2v-pro":{"5":-1}}' })[0]).toMatch(/^WAVESPEED_PRICES\.kwaivgi\/kling-v2\.1-i2v-pro\.5:/);
    expect(problemsOf({ WAVESPEED_PRICES: '{"kwaivgi/kling-v2.1-i2v-pro":{"5s":1}}' })[0]).toMatch(/^WAVESPEED_PRICES/);
  });
});
