import { describe, expect, it } from 'vitest';
import { AGAIN_BUTTON_PREFIX, NEW_PROMPT_BUTTON_PREFIX, againWorkflowId, parseVideoWorkflowId, resendButtonData, settingsButtonData, videoWorkflowId } from '../../src/workflows/ids.js';
import { WAVESPEED_MODELS } from '../../src/constants.js';

/** The longest ids Telegram gives: a supergroup's chat id, a 20-digit callback query id, a 10-digit message id. */
const CHAT = -1001234567890123;
const CALLBACK = '12345678901234567890';

describe('callback_data of the buttons', () => {
  it("fits Telegram's 64 bytes at the longest ids", () => {
    const generations = [videoWorkflowId(CHAT, 2_147_483_647), againWorkflowId(CHAT, CALLBACK)];
    const data = [
      ...generations.flatMap((g) => [`${AGAIN_BUTTON_PREFIX}${g}`, `${NEW_PROMPT_BUTTON_PREFIX}${g}`, resendButtonData(g)]),
      ...WAVESPEED_MODELS.map((model) => settingsButtonData({ model })),
      settingsButtonData({ durationSeconds: 10 }),
    ];
    for (const d of data) expect(Buffer.byteLength(d), d).toBeLessThanOrEqual(64);
  });

  it("reads an Again video's id back to its chat, as a photo's", () => {
    expect(parseVideoWorkflowId(againWorkflowId(CHAT, CALLBACK))).toEqual({ chatId: CHAT });
    expect(parseVideoWorkflowId(videoWorkflowId(42, 7))).toEqual({ chatId: 42 });
    expect(parseVideoWorkflowId('command-42-7')).toBeUndefined();
  });
});
