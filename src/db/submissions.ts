import type { PrismaClient } from '../generated/prisma/client.js';

/** One `submitGeneration` activity of one workflow run (its attempts share it). */
export interface SubmissionKey {
  workflowId: string;
  runId: string;
  activityId: string;
}

/**
 * What an attempt found when it asked to send: `send` (the marker is now its own,
 * written before the POST), `accepted` (an earlier attempt's POST created
 * `predictionId`) or `maybe-sent` (an earlier attempt may have sent it and nobody
 * knows the answer).
 */
export type SubmissionClaim = { kind: 'send' } | { kind: 'accepted'; predictionId: string } | { kind: 'maybe-sent' };

/**
 * Takes the right to POST the submission, in one statement: the marker is
 * written (`sending`, with this attempt's number) when there is none yet or the
 * last attempt's POST surely created nothing (`not_sent`); otherwise the
 * existing marker is reported as it was before this statement.
 */
export async function claimSubmission(prisma: PrismaClient, key: SubmissionKey, attempt: number): Promise<SubmissionClaim> {
  const rows = await prisma.$queryRaw<Array<{ claimed: boolean; state: string | null; prediction_id: string | null }>>`
    WITH claimed AS (
      INSERT INTO wavespeed_submissions (workflow_id, run_id, activity_id, state, attempt)
      VALUES (${key.workflowId}, ${key.runId}, ${key.activityId}, 'sending', ${attempt})
      ON CONFLICT (workflow_id, run_id, activity_id) DO UPDATE
        SET state = 'sending', attempt = EXCLUDED.attempt, updated_at = now()
        WHERE wavespeed_submissions.state = 'not_sent'
      RETURNING 1
    )
    SELECT EXISTS (SELECT 1 FROM claimed) AS claimed, s.state::text AS state, s.prediction_id
      FROM (SELECT 1) AS one
      LEFT JOIN wavespeed_submissions s
        ON s.workflow_id = ${key.workflowId} AND s.run_id = ${key.runId} AND s.activity_id = ${key.activityId}`;
  const row = rows[0];
  if (!row || row.claimed) return { kind: 'send' };
  if (row.state === 'accepted' && row.prediction_id) return { kind: 'accepted', predictionId: row.prediction_id };
  return { kind: 'maybe-sent' };
}

/** Records the prediction WaveSpeed created for the submission. */
export async function recordSubmissionAccepted(prisma: PrismaClient, key: SubmissionKey, predictionId: string): Promise<void> {
  await prisma.wavespeedSubmission.updateMany({
    where: key,
    data: { state: 'accepted', predictionId, updatedAt: new Date() },
  });
}

/**
 * Records that this attempt's POST surely created nothing, so the next attempt
 * may send. Only the attempt holding the marker may: a late write from an older
 * attempt never releases a newer attempt's POST.
 */
export async function recordSubmissionNotSent(prisma: PrismaClient, key: SubmissionKey, attempt: number): Promise<void> {
  await prisma.wavespeedSubmission.updateMany({
    where: { ...key, attempt, state: 'sending' },
    data: { state: 'not_sent', updatedAt: new Date() },
  });
}
