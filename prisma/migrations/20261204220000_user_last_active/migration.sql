-- When a user last sent the bot something, to the hour (src/db/users.ts): active
-- users told from dormant ones without a write for every update.
-- AlterTable
ALTER TABLE "telegram_users" ADD COLUMN     "last_active_at" TIMESTAMP(3);
