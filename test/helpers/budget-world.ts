import { afterAll, beforeEach } from 'vitest';
import type { TelegramSimulator } from '../../sandbox/simulators/telegram.js';
import type { TestDatabase } from './database.js';

/**
 * For a file with its own Telegram simulator and database: stops and drops them
 * after the file, and gives every test a fresh simulator record and a fresh
 * Telegram budget (no schedule or chat slot carried over from the last test's pace).
 */
export function freshBudgetForEachTest(world: () => { db?: TestDatabase; telegram?: TelegramSimulator }): void {
  afterAll(async () => {
    const { db, telegram } = world();
    await telegram?.stop();
    await db?.drop();
  });
  beforeEach(async () => {
    const { db, telegram } = world();
    telegram?.reset();
    await db?.prisma.telegramBudget.deleteMany();
    await db?.prisma.telegramChatSlot.deleteMany();
  });
}
