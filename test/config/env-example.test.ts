import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configSchema, parseConfig } from '../../src/config.js';
import { TEST_PAYLOAD_ENCRYPTION_KEYS } from '../helpers/encryption.js';

const ROOT = resolve(import.meta.dirname, '../..');
const COMPOSE_ONLY_MARKER = '=== docker compose only';

interface Entry {
  key: string;
  value: string;
  commented: boolean;
  line: number;
}

/** `KEY=value` and `# KEY=value` lines of .env.example, split at the compose-only marker. */
function readEnvExample(): { app: Entry[]; composeOnly: Entry[]; lines: string[] } {
  const lines = readFileSync(resolve(ROOT, '.env.example'), 'utf8').split('\n');
  const app: Entry[] = [];
  const composeOnly: Entry[] = [];
  let target = app;
  lines.forEach((text, line) => {
    if (text.includes(COMPOSE_ONLY_MARKER)) target = composeOnly;
    const match = /^(# )?([A-Z][A-Z0-9_]*)=(.*)$/.exec(text);
    if (match) target.push({ key: match[2]!, value: match[3]!, commented: Boolean(match[1]), line });
  });
  return { app, composeOnly, lines };
}

const schemaKeys = Object.keys(configSchema.shape).sort();
/** Variables with neither a default nor `.optional()`. */
const requiredKeys = schemaKeys.filter((k) => !configSchema.shape[k as keyof typeof configSchema.shape].safeParse(undefined).success);
/** Values for the variables that have no default, so that the others can be checked one by one. */
const REQUIRED = { TELEGRAM_BOT_TOKEN: '1:x', TELEGRAM_WEBHOOK_SECRET: 'x', WAVESPEED_API_KEY: 'x', PAYLOAD_ENCRYPTION_KEYS: TEST_PAYLOAD_ENCRYPTION_KEYS };

describe('.env.example', () => {
  const { app, composeOnly, lines } = readEnvExample();

  it('documents every variable of the config schema, and no other', () => {
    const documented = app.map((e) => e.key).sort();
    expect(documented).toEqual([...new Set(documented)]);
    const missing = schemaKeys.filter((k) => !documented.includes(k));
    const unknown = documented.filter((k) => !schemaKeys.includes(k));
    expect({ missing, unknown }).toEqual({ missing: [], unknown: [] });
  });

  it('has a comment above every variable', () => {
    for (const entry of [...app, ...composeOnly]) {
      let above = entry.line - 1;
      while (above >= 0 && /^(# )?[A-Z][A-Z0-9_]*=/.test(lines[above]!)) above--;
      expect(lines[above], `comment above ${entry.key}`).toMatch(/^# \S/);
    }
  });

  it('leaves uncommented exactly the variables without a default, and shows the true default of the others', () => {
    expect(app.filter((e) => !e.commented).map((e) => e.key).sort()).toEqual(requiredKeys.sort());
    const defaults = parseConfig(REQUIRED);
    for (const { key, value } of app.filter((e) => e.commented && e.value !== '')) {
      expect(parseConfig({ ...REQUIRED, [key]: value })[key as keyof typeof defaults], key).toEqual(defaults[key as keyof typeof defaults]);
    }
  });

  it('lists compose-only knobs that docker-compose.yml really uses', () => {
    const compose = readFileSync(resolve(ROOT, 'docker-compose.yml'), 'utf8');
    expect(composeOnly.length).toBeGreaterThan(0);
    for (const { key, value } of composeOnly) {
      expect(schemaKeys).not.toContain(key);
      expect(compose, key).toContain(`\${${key}:-${value}}`);
    }
  });
});
