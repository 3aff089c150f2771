-- AlterEnum
-- This migration adds more than one value to an enum.
-- With PostgreSQL versions 11 and earlier, this is not possible
-- in a single migration. This can be worked around by creating
-- multiple migrations, each migration adding only one value to
-- the enum.


ALTER TYPE "generation_status" ADD VALUE 'queued';
ALTER TYPE "generation_status" ADD VALUE 'refused';

-- AlterTable
ALTER TABLE "generations" ADD COLUMN     "admitted_at" TIMESTAMP(3),
ADD COLUMN     "cost_usd" DECIMAL(10,4);

-- CreateIndex
CREATE INDEX "generations_user_id_admitted_at_idx" ON "generations"("user_id", "admitted_at");

-- CreateIndex
CREATE INDEX "generations_completed_at_idx" ON "generations"("completed_at");

-- Requests recorded before per-user limits were all admitted when they were requested.
UPDATE "generations" SET "admitted_at" = "requested_at";
