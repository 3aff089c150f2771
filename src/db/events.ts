import type { Prisma } from '../generated/prisma/client.js';

/** Domain event types Telewan records. */
export type DomainEventType =
  | 'user.registered'
  | 'user.blocked'
  | 'user.language_changed'
  | 'user.command_executed'
  | 'user.settings_changed'
  | 'user.new_prompt'
  | 'video.requested'
  | 'video.refused'
  | 'video.submitted'
  | 'video.completed'
  | 'video.failed'
  | 'video.cancelled'
  | 'generation.redriven'
  | 'subscription.created'
  | 'subscription.removed'
  | 'source.created'
  | 'summary.received'
  | 'summary.distributed'
  | 'summary.redriven'
  | 'generation.paused'
  | 'generation.resumed';

export interface DomainEventInput {
  /** Chosen by the producer so a retried write records the event once. */
  id: string;
  type: DomainEventType;
  subject: string;
  payload?: Prisma.InputJsonValue;
}

/** Appends a domain event; writing the same id again is a no-op. */
export async function recordEvent(tx: Pick<Prisma.TransactionClient, 'domainEvent'>, event: DomainEventInput): Promise<void> {
  await tx.domainEvent.createMany({
    data: [{ id: event.id, type: event.type, subject: event.subject, payload: event.payload ?? {} }],
    skipDuplicates: true,
  });
}
