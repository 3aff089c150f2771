import { parseArgs } from 'node:util';

/** Reads `--name <number>` flags, each with a default; fails on anything else. */
export function numericFlags<T extends Record<string, number>>(defaults: T, argv = process.argv.slice(2)): T {
  const options = Object.fromEntries(Object.keys(defaults).map((name) => [name, { type: 'string' as const }]));
  const { values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false });
  const result: Record<string, number> = { ...defaults };
  for (const [name, raw] of Object.entries(values)) {
    const value = Number(raw);
    if (typeof raw !== 'string' || !Number.isFinite(value) || value < 0) throw new Error(`--${name} needs a non-negative number, got ${String(raw)}`);
    result[name] = value;
  }
  return result as T;
}
