-- CreateEnum
CREATE TYPE "generation_status" AS ENUM ('requested', 'preparing', 'submitted', 'processing', 'completed', 'failed', 'cancelled');

-- CreateTable
CREATE TABLE "telegram_users" (
    "id" BIGINT NOT NULL,
    "chat_id" BIGINT NOT NULL,
    "username" TEXT,
    "first_name" TEXT,
    "language_code" TEXT,
    "blocked" BOOLEAN NOT NULL DEFAULT false,
    "blocked_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "telegram_users_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "generations" (
    "id" TEXT NOT NULL,
    "user_id" BIGINT NOT NULL,
    "chat_id" BIGINT NOT NULL,
    "message_id" INTEGER NOT NULL,
    "prompt" TEXT NOT NULL,
    "model" TEXT NOT NULL,
    "status" "generation_status" NOT NULL DEFAULT 'requested',
    "progress_message_id" INTEGER,
    "image_md5" TEXT,
    "image_bytes" INTEGER,
    "prediction_id" TEXT,
    "video_url" TEXT,
    "telegram_file_id" TEXT,
    "delivered_by" TEXT,
    "error_kind" TEXT,
    "error" TEXT,
    "requested_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "submitted_at" TIMESTAMP(3),
    "completed_at" TIMESTAMP(3),
    "inference_ms" INTEGER,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "generations_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "domain_events" (
    "id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "payload" JSONB NOT NULL DEFAULT '{}',
    "occurred_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "domain_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "telegram_users_chat_id_idx" ON "telegram_users"("chat_id");

-- CreateIndex
CREATE UNIQUE INDEX "generations_prediction_id_key" ON "generations"("prediction_id");

-- CreateIndex
CREATE INDEX "generations_chat_id_requested_at_idx" ON "generations"("chat_id", "requested_at");

-- CreateIndex
CREATE INDEX "generations_status_idx" ON "generations"("status");

-- CreateIndex
CREATE INDEX "domain_events_type_occurred_at_idx" ON "domain_events"("type", "occurred_at");

-- CreateIndex
CREATE INDEX "domain_events_subject_idx" ON "domain_events"("subject");

-- AddForeignKey
ALTER TABLE "generations" ADD CONSTRAINT "generations_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "telegram_users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
