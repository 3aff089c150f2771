import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.js';

export * from '../generated/prisma/client.js';

/**
 * A Prisma client on its own pg pool. Each caller (worker, gateway, a test)
 * creates one at startup, passes it down, and calls {@link disconnect} when done;
 * there is no shared instance.
 *
 * A `?schema=` parameter in the URL selects the PostgreSQL schema, as it does
 * for the migrations in scripts/db.ts.
 */
export function createPrisma(databaseUrl: string): PrismaClient {
  const schema = new URL(databaseUrl).searchParams.get('schema') ?? undefined;
  const adapter = new PrismaPg({ connectionString: databaseUrl }, schema ? { schema } : undefined);
  return new PrismaClient({ adapter });
}

/** Closes the client's pool; pending queries finish first. */
export async function disconnect(prisma: PrismaClient): Promise<void> {
  await prisma.$disconnect();
}
