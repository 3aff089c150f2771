-- CreateEnum
CREATE TYPE "video_result_status" AS ENUM ('generating', 'ready');

-- AlterTable
ALTER TABLE "generations" ADD COLUMN     "cache_hit" BOOLEAN,
ADD COLUMN     "cached_from" TEXT;

-- CreateTable
CREATE TABLE "video_results" (
    "key" TEXT NOT NULL,
    "status" "video_result_status" NOT NULL,
    "image_md5" TEXT NOT NULL,
    "prompt" TEXT NOT NULL,
    "model" TEXT NOT NULL,
    "params" JSONB NOT NULL DEFAULT '{}',
    "leader_id" TEXT NOT NULL,
    "lease_until" TIMESTAMP(3),
    "telegram_file_id" TEXT,
    "video_url" TEXT,
    "hits" INTEGER NOT NULL DEFAULT 0,
    "last_hit_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "ready_at" TIMESTAMP(3),

    CONSTRAINT "video_results_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE INDEX "generations_requested_at_cache_hit_idx" ON "generations"("requested_at", "cache_hit");
