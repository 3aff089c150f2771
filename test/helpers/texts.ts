/**
 * The English catalog (src/i18n/en.ts) under the names the tests used before the
 * catalogs: what a user without a Spanish `language_code` or /language choice sees.
 */
import { TELEGRAM_LIMITS } from '../../src/constants.js';
import { en } from '../../src/i18n/en.js';

export type { FailureReason } from '../../src/domain/failure-reason.js';
export const HELP_TEXT = en.help;
export const WELCOME_TEXT = en.welcome;
export const NO_CAPTION_TEXT = en.noCaption;
export const UNKNOWN_TEXT = en.unknown;
export const PROGRESS = en.progress;
export const unconfirmedDeliveryText = en.unconfirmedDelivery;
export const UNCONFIRMED_CACHED_DELIVERY_TEXT = en.unconfirmedCachedDelivery;
export const queuedText = en.queued;
export const failureText = en.failure;
export const statusText = en.status;
export const SUBSCRIBE_USAGE_TEXT = en.subscribeUsage;
export const UNSUBSCRIBE_USAGE_TEXT = en.unsubscribeUsage;
export const STALE_BUTTON_TEXT = en.staleButton;
export const sourcesReply = en.sources;
export const subscribeText = en.subscribe;
export const subscribeNotice = en.subscribeNotice;
export const unsubscribeText = en.unsubscribe;
export const subscriptionsText = en.subscriptions;
export const refusalText = en.refusal;
export const userQueuedText = en.userQueued;
export const SLOW_DOWN_TEXT = en.slowDown;
export const usageText = en.usage;
export const unsupportedImageText = (mimeType: string): string => en.unsupportedImage(mimeType);
export const IMAGE_TOO_LARGE_TEXT = en.imageTooLarge(TELEGRAM_LIMITS.downloadBytes / 1024 / 1024);
