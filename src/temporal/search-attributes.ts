import { SearchAttributeType, defineSearchAttributeKey } from '@temporalio/common';

/**
 * Telewan's custom search attributes: what an operator filters workflows by in
 * the Temporal UI or `temporal workflow list --query`. Each must be registered
 * on the server (`temporal-config`, and {@link devServerArgs} for dev servers,
 * tests and benchmarks). Search attributes are not encoded by the payload codec:
 * they carry no user content.
 */

/** The Telegram chat a workflow serves (videos and commands). */
export const TelewanChatId = defineSearchAttributeKey('TelewanChatId', SearchAttributeType.INT);

/** What a workflow is for: one of {@link WorkflowKind}. */
export const TelewanKind = defineSearchAttributeKey('TelewanKind', SearchAttributeType.KEYWORD);

/** The source whose summary a distribution sends. */
export const TelewanSourceSlug = defineSearchAttributeKey('TelewanSourceSlug', SearchAttributeType.KEYWORD);

/**
 * How a workflow ended for the business, set as it closes: `completed`,
 * `failed` or `cancelled` for a video (a video that failed for the user still
 * completes as an execution), `completed` or `partial` (some deliveries
 * failed) for a distribution.
 */
export const TelewanOutcome = defineSearchAttributeKey('TelewanOutcome', SearchAttributeType.KEYWORD);

type Key = ReturnType<typeof defineSearchAttributeKey<'INT' | 'KEYWORD'>>;

/** Values of {@link TelewanKind}. */
export type WorkflowKind = 'video' | 'command' | 'distribution';

/** Values of {@link TelewanOutcome}. */
export type WorkflowOutcome = 'completed' | 'failed' | 'cancelled' | 'refused' | 'partial';

/** Every custom search attribute, for registering them on a server. */
export const SEARCH_ATTRIBUTES: readonly Key[] = [TelewanChatId, TelewanKind, TelewanSourceSlug, TelewanOutcome];

/** A search attribute's type as the Temporal CLI spells it (`Int`, `Keyword`). */
export function cliSearchAttributeType(key: Key): string {
  return key.type === 'INT' ? 'Int' : 'Keyword';
}
