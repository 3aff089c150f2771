/** What the gateway itself answers, as the webhook's reply, when it can refuse an update without starting anything. */

import { TELEGRAM_LIMITS } from '../constants.js';
import { ACCEPTED_IMAGE_NAMES } from '../domain/images.js';

/** A document declared as an image of a format Telewan does not take (SVG, GIF, HEIC, …). */
export function unsupportedImageText(what: string): string {
  return `❌ I can only turn ${ACCEPTED_IMAGE_NAMES} pictures into videos, and this file is ${what}. Send it as a photo, or as a ${ACCEPTED_IMAGE_NAMES} file.`;
}

/** A document larger than a bot may download. */
export const IMAGE_TOO_LARGE_TEXT = `❌ This file is larger than the ${TELEGRAM_LIMITS.downloadBytes / 1024 / 1024} MB I can download. Send the picture as a photo, or a smaller file.`;
