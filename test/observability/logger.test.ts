import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, createScrubber, secretsOf } from '../../src/observability/logger.js';
import { PinoTemporalLogger } from '../../src/observability/temporal-runtime.js';
import { parseConfig } from '../../src/config.js';
import { TEST_PAYLOAD_ENCRYPTION_KEYS } from '../helpers/encryption.js';

const TOKEN = '987654:AAH-real-looking_bot-token';
const config = parseConfig({
  TELEGRAM_BOT_TOKEN: TOKEN,
  TELEGRAM_WEBHOOK_SECRET: 'tg-webhook-secret-123',
  WAVESPEED_API_KEY: 'ws-key-abcdef',
  WAVESPEED_WEBHOOK_SECRET: 'whsec_configured0123456789',
  ADMIN_TOKEN: 'admin-token-0123456789abcdef',
  DATABASE_URL: 'postgresql://telewan:db-pass-xyz@127.0.0.1:5432/telewan',
  PAYLOAD_ENCRYPTION_KEYS: TEST_PAYLOAD_ENCRYPTION_KEYS,
});
const PAYLOAD_KEY = TEST_PAYLOAD_ENCRYPTION_KEYS.split(':')[1]!;

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, destination, text: () => lines.join('\n') };
}

describe('secretsOf', () => {
  it('lists every configured secret, the database password included', () => {
    expect(secretsOf(config).sort()).toEqual(
      [TOKEN, 'tg-webhook-secret-123', 'ws-key-abcdef', 'whsec_configured0123456789', 'admin-token-0123456789abcdef', 'db-pass-xyz', PAYLOAD_KEY].sort(),
    );
  });
});

describe('createScrubber', () => {
  const scrub = createScrubber(secretsOf(config));

  it('removes configured values wherever they sit', () => {
    expect(scrub(`{"msg":"calling ws-key-abcdef and admin-token-0123456789abcdef"}`)).toBe('{"msg":"calling [REDACTED] and [REDACTED]"}');
  });

  it('removes bot tokens inside Bot API and file URLs, configured or not', () => {
    const other = '111:ZZZ_another-token';
    const line = `GET https://api.telegram.org/bot${TOKEN}/getFile and /file/bot${other}/photos/1.jpg`;
    const out = scrub(line);
    expect(out).not.toContain(TOKEN);
    expect(out).not.toContain('ZZZ_another-token');
    expect(out).toContain('/file/bot[REDACTED]/photos/1.jpg');
  });

  it('removes WaveSpeed signing secrets learnt at run time and bearer tokens', () => {
    const out = scrub('secret whsec_fetchedAtBoot+/= header Bearer abc.def-ghi');
    expect(out).toBe('secret whsec_[REDACTED] header Bearer [REDACTED]');
  });
});

describe('createLogger', () => {
  it('writes JSON lines with secrets gone from messages, fields, errors and stacks', () => {
    const out = capture();
    const logger = createLogger({ level: 'info', secrets: secretsOf(config), destination: out.destination, base: { service: 'test' } });
    const err = new Error(`fetch failed for https://api.telegram.org/file/bot${TOKEN}/photos/x.jpg`);
    logger.error({ err, url: `/bot${TOKEN}/sendMessage` }, 'download failed');
    logger.child({ component: 'child' }).warn({ apiKey: 'anything', note: 'key ws-key-abcdef' }, 'with db-pass-xyz');
    logger.info({ req: { headers: { authorization: 'Bearer admin-token-0123456789abcdef', 'x-telegram-bot-api-secret-token': 'tg-webhook-secret-123' } } }, 'request');
    logger.debug(`debug lines are below the level ${TOKEN}`);

    expect(out.lines).toHaveLength(3);
    const [first, second, third] = out.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(first).toMatchObject({ level: 50, service: 'test', msg: 'download failed', url: '/bot[REDACTED]/sendMessage' });
    expect((first!.err as { message: string }).message).toContain('/file/bot[REDACTED]/photos/x.jpg');
    expect(second).toMatchObject({ component: 'child', apiKey: '[REDACTED]', note: 'key [REDACTED]', msg: 'with [REDACTED]' });
    expect(third).toMatchObject({ req: { headers: { authorization: '[REDACTED]', 'x-telegram-bot-api-secret-token': '[REDACTED]' } } });
    for (const secret of secretsOf(config)) expect(out.text()).not.toContain(secret);
  });
});

describe('PinoTemporalLogger', () => {
  it('writes Temporal log entries as pino lines, errors as err, below-level entries dropped', () => {
    const out = capture();
    const logger = createLogger({ level: 'info', secrets: [TOKEN], destination: out.destination });
    const temporal = new PinoTemporalLogger(() => logger);
    temporal.warn('Activity failed', { sdkComponent: 'activity', activityType: 'prepareImage', error: new Error(`bot${TOKEN} said no`) });
    temporal.debug('Activity started', { sdkComponent: 'activity' });
    temporal.log('INFO', 'Worker state changed', { sdkComponent: 'worker', state: 'RUNNING' });
    expect(out.lines.map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ level: 40, msg: 'Activity failed', activityType: 'prepareImage', err: expect.objectContaining({ message: 'bot[REDACTED] said no' }) }),
      expect.objectContaining({ level: 30, msg: 'Worker state changed', state: 'RUNNING' }),
    ]);
  });
});
