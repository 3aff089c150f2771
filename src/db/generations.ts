import type { GenerationStatus } from '../generated/prisma/client.js';

/** Statuses of a generation still under way; the others are outcomes. */
export const ACTIVE_GENERATION_STATUSES: readonly GenerationStatus[] = ['requested', 'preparing', 'submitted', 'processing'];
