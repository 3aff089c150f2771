-- The buttons under a delivered video (src/workflows/command/workflow.ts): the photo's
-- file_id on each generation, so 🔁 Again and ✏️ New prompt can make another video of
-- it, and the generation whose new caption a user's next text is.
-- AlterTable
ALTER TABLE "generations" ADD COLUMN     "photo_file_id" TEXT;

-- AlterTable
ALTER TABLE "telegram_users" ADD COLUMN     "awaiting_prompt_for" TEXT,
ADD COLUMN     "awaiting_prompt_since" TIMESTAMP(3);
