-- The language a user chose with /language (src/i18n): null until they choose,
-- and Telegram's language_code decides.
-- AlterTable
ALTER TABLE "telegram_users" ADD COLUMN     "language" TEXT;
