import { readdirSync, readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Every query is in `src/db`, grouped by aggregate; activities, the gateway and
 * the integrations call its functions (CONTRIBUTING.md, "Add an activity"). This
 * reads the source and names each query found anywhere else in `src`.
 */

const ROOT = resolve(import.meta.dirname, '../..');
/** Where queries belong, and Prisma's own generated client. */
const ALLOWED = ['src/db/', 'src/generated/'];

/** The model delegates of the Prisma client (`prisma.generation`, `tx.telegramUser`, …), from the schema. */
function delegates(): string[] {
  const schema = readFileSync(resolve(ROOT, 'prisma/schema.prisma'), 'utf8');
  return [...schema.matchAll(/^model\s+(\w+)/gm)].map((m) => m[1]!.charAt(0).toLowerCase() + m[1]!.slice(1));
}

const OPERATIONS = [
  'findUnique', 'findUniqueOrThrow', 'findFirst', 'findFirstOrThrow', 'findMany', 'create', 'createMany', 'createManyAndReturn',
  'update', 'updateMany', 'updateManyAndReturn', 'upsert', 'delete', 'deleteMany', 'count', 'aggregate', 'groupBy',
];

/** A model query (`x.generation.findMany(`) or a raw statement or transaction (`x.$queryRaw`, `x.$transaction(`). */
const QUERY = new RegExp(
  String.raw`\.(?:(?:${delegates().join('|')})\s*\.\s*(?:${OPERATIONS.join('|')})\s*\(|\$(?:queryRaw|executeRaw|queryRawUnsafe|executeRawUnsafe|queryRawTyped|transaction)\b)`,
  'g',
);

/** `file:line: text` of each line of `source` where a query begins (a call broken over lines included). */
function queriesIn(file: string, source: string): string[] {
  const lines = source.split('\n');
  const found = new Set<number>();
  for (const m of source.matchAll(QUERY)) found.add(source.slice(0, m.index).split('\n').length);
  return [...found].map((n) => `${file}:${n}: ${lines[n - 1]!.trim()}`);
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = resolve(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

describe('the data layer', () => {
  it('recognises a query however it is written', () => {
    const found = queriesIn('src/activities/x.ts', [
      'const rows = await prisma.generation.findMany({ where: {} });',
      'await tx.telegramUser.upsert({ where: { id } });',
      'await this.options.prisma.$executeRaw`UPDATE deliveries SET x = 1`;',
      'return prisma.$transaction(async (tx) => {',
      'const n = await deps.prisma.delivery',
      '  .groupBy({ by: ["status"] });',
      // Not queries: a type, a helper of src/db, closing the pool.
      "import type { Generation } from '../generated/prisma/client.js';",
      'await recordOutcome(prisma, input, prices);',
      'await prisma.$disconnect();',
    ].join('\n'));
    expect(found.map((line) => line.split(':')[1])).toEqual(['1', '2', '3', '4', '5']);
  });

  it('has every query of src in src/db', () => {
    const offenders = sourceFiles(resolve(ROOT, 'src'))
      .map((path) => relative(ROOT, path).replaceAll('\\', '/'))
      .filter((file) => !ALLOWED.some((dir) => file.startsWith(dir)))
      .flatMap((file) => queriesIn(file, readFileSync(resolve(ROOT, file), 'utf8')));
    expect(offenders, `queries outside src/db (move each into a function of its aggregate's module there):\n${offenders.join('\n')}`).toEqual([]);
  });
});
