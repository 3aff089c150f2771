import { fileURLToPath } from 'node:url';
import { defineConfig } from 'prisma/config';

// Prisma's CLI downloads its native schema engine before every command, and that
// host is unreachable here. `prisma generate` only needs the engine to answer
// `--version`, so point it at a stub that does exactly that and refuses anything
// else. Migrations run through the WASM engine instead: `npm run db:*`.
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= fileURLToPath(
  new URL('./scripts/fake-schema-engine', import.meta.url),
);

// No `datasource.url`: `env('DATABASE_URL')` would throw when it is unset, even
// for `prisma generate`. scripts/db.ts reads DATABASE_URL itself.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
});
