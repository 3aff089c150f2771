-- /settings (src/workflows/command/workflow.ts): a user's model and video length for
-- their next requests, and the length each generation asked for (its price depends on it).
-- AlterTable
ALTER TABLE "generations" ADD COLUMN     "duration_seconds" INTEGER;

-- AlterTable
ALTER TABLE "telegram_users" ADD COLUMN     "video_duration" INTEGER,
ADD COLUMN     "video_model" TEXT;
