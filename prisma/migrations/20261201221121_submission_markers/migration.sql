-- The marker submitGeneration writes before its POST to WaveSpeed (no idempotency
-- key, no way to list predictions): a retry of the same activity of the same run
-- that finds it `sending` fails as ambiguous instead of paying for a second
-- prediction (src/db/submissions.ts). One row per submitted request.
-- CreateEnum
CREATE TYPE "submission_state" AS ENUM ('sending', 'not_sent', 'accepted');

-- CreateTable
CREATE TABLE "wavespeed_submissions" (
    "workflow_id" TEXT NOT NULL,
    "run_id" TEXT NOT NULL,
    "activity_id" TEXT NOT NULL,
    "state" "submission_state" NOT NULL,
    "attempt" INTEGER NOT NULL,
    "prediction_id" TEXT,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "wavespeed_submissions_pkey" PRIMARY KEY ("workflow_id","run_id","activity_id")
);
