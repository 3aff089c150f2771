import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TgUpdate } from '../../sandbox/simulators/telegram/types.js';
import { videoWorkflowId } from '../../src/workflows/ids.js';
import { failureText, unsupportedImageText } from '../helpers/texts.js';
import type { VideoOutcome } from '../../src/workflows/video/messages.js';
import { eventually, startTestSystem, type TestSystem } from '../helpers/system.js';

const SVG = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="60000" height="60000"><circle r="9"/></svg>');

let sys: TestSystem;
beforeAll(async () => {
  sys = await startTestSystem();
}, 120_000);
afterAll(async () => {
  await sys?.teardown();
});

let nextChat = 7100;

/** A user's image sent "as a file", with the MIME type their app declared. */
function documentUpdate(chatId: number, bytes: Buffer, declared: string): TgUpdate {
  const base = sys.telegram!.makeTextUpdate({ chatId, userId: chatId, text: 'placeholder' });
  const file = sys.telegram!.addFile(bytes, { kind: 'document', mimeType: declared, fileName: 'picture' });
  const { text: _text, entities: _entities, ...message } = base.message!;
  return { ...base, message: { ...message, caption: 'zoom out slowly', document: { file_id: file.file_id, file_unique_id: file.file_unique_id, mime_type: declared, file_size: file.file_size } } } as TgUpdate;
}

describe('pictures Telewan cannot use, end to end', () => {
  it('answers an SVG document in the webhook reply and starts nothing', async () => {
    const chatId = nextChat++;
    const update = documentUpdate(chatId, SVG, 'image/svg+xml');
    const res = await sys.telegram!.pushUpdate(update);

    expect(res.status).toBe(200);
    expect(res.webhookReply).toEqual({ method: 'sendMessage', ok: true });
    expect(sys.telegram!.messagesTo(chatId).map((m) => m.text)).toEqual([unsupportedImageText('image/svg+xml')]);
    const handle = sys.temporal.client.workflow.getHandle(videoWorkflowId(chatId, update.message!.message_id));
    await expect(handle.describe()).rejects.toThrow(/not found/i);
    expect(await sys.db.prisma.generation.count({ where: { chatId } })).toBe(0);
  });

  it('refuses an SVG declared as a JPEG by its bytes: one clear message, no upload, no prediction', async () => {
    const chatId = nextChat++;
    const uploadsBefore = sys.wavespeed!.uploads.length;
    const predictionsBefore = sys.wavespeed!.predictions.size;
    const update = documentUpdate(chatId, SVG, 'image/jpeg');
    expect((await sys.telegram!.pushUpdate(update)).status).toBe(200);

    const workflowId = videoWorkflowId(chatId, update.message!.message_id);
    const outcome = (await sys.temporal.client.workflow.getHandle(workflowId).result()) as VideoOutcome;

    expect(outcome).toMatchObject({ status: 'failed', reason: 'bad-image' });
    const told = failureText('bad-image', 'it is an SVG image; only JPEG, PNG or WebP pictures can be used');
    await eventually(() => sys.telegram!.messagesTo(chatId).some((m) => m.text === told) || undefined, 10_000, 'the refusal');
    expect(sys.wavespeed!.uploads.length).toBe(uploadsBefore);
    expect(sys.wavespeed!.predictions.size).toBe(predictionsBefore);
    // Non-retryable: the activity ran once.
    const history = await sys.temporal.client.workflow.getHandle(workflowId).fetchHistory();
    const attempts = (history.events ?? []).filter((e) => e.activityTaskStartedEventAttributes && (e.activityTaskStartedEventAttributes.attempt ?? 1) > 1);
    expect(attempts).toEqual([]);
  });
});
