import { DefaultFailureConverter } from '@temporalio/common';

/**
 * Moves failure messages and stack traces into an encoded (so encrypted) attribute:
 * they can name chats and echo what Telegram or WaveSpeed said.
 */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
