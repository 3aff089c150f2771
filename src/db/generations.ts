import type { GenerationStatus } from '../generated/prisma/client.js';

/** Statuses of a generation still under way (queued or running); the others are outcomes. */
export const ACTIVE_GENERATION_STATUSES: readonly GenerationStatus[] = ['queued', 'requested', 'preparing', 'submitted', 'processing'];

/** Statuses of a generation holding one of its user's slots (`USER_MAX_ACTIVE_GENERATIONS`): admitted and not yet ended. */
export const RUNNING_GENERATION_STATUSES: readonly GenerationStatus[] = ['requested', 'preparing', 'submitted', 'processing'];
