import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import type { SendMessageInput } from '../../src/activities/telegram.js';
import { CATALOGS } from '../../src/i18n/index.js';
import { TelegramRequestError } from '../../src/errors.js';
import type { PredictionResult } from '../../src/integrations/wavespeed/types.js';
import { workerTuning } from '../../src/temporal/worker/worker-tuning.js';
import type { BotCommandInput } from '../../src/workflows/command/workflow.js';
import { botCommandWorkflowId, videoWorkflowId } from '../../src/workflows/ids.js';
import type { VideoOutcome, VideoRequest } from '../../src/workflows/video/messages.js';
import { createTestWorkers, useWorkflowEnvironment } from '../helpers/temporal.js';
import { fakeActivities, type ActivityOverrides, type FakeWorld } from './fake-activities.js';

const t = useWorkflowEnvironment();
const { en, es } = CATALOGS;
let nextMessage = 1;

const failed = (id: string): PredictionResult => ({ id, status: 'failed', outputs: [], nsfw: false, error: 'model crashed' });

async function video(languageCode: string | undefined, world: (w: FakeWorld) => ActivityOverrides = () => ({})) {
  const req: VideoRequest = {
    user: { userId: 77, chatId: 77, firstName: 'Lucía', ...(languageCode ? { languageCode } : {}) },
    messageId: nextMessage++,
    fileId: 'photo-file-id',
    prompt: 'las olas rompen despacio',
    model: 'wavespeed-ai/wan-2.2/i2v-480p',
    deadlineMs: 15 * 60 * 1000,
  };
  const { activities, world: seen } = fakeActivities(world, { temporal: t.env.client });
  const taskQueue = `language-video-${req.messageId}`;
  const worker = await createTestWorkers({ connection: t.env.nativeConnection, taskQueue, workflowBundle: t.bundle, activities, ...workerTuning });
  const workflowId = videoWorkflowId(req.user.chatId, req.messageId);
  const outcome = (await worker.runUntil(() => t.env.client.workflow.execute('imageToVideo', { taskQueue, workflowId, args: [req] }))) as VideoOutcome;
  return { outcome, world: seen };
}

/** Runs botCommands against one user whose /language choice persists between them. */
function commandUser(languageCode: string | undefined, more: ActivityOverrides = {}) {
  const sent: SendMessageInput[] = [];
  const answers: Array<{ callbackQueryId: string; text?: string }> = [];
  let chosen: 'en' | 'es' | undefined;
  const overrides: ActivityOverrides = {
    async recordCommand() {
      return chosen ? { language: chosen } : {};
    },
    async chooseLanguage({ language }) {
      chosen = language;
    },
    async sendMessage(input) {
      sent.push(input);
      return { messageId: 9000 + sent.length };
    },
    async answerCallbackQuery(input) {
      answers.push(input);
      return { answered: true };
    },
    ...more,
  };
  const user = { userId: 88, chatId: 88, firstName: 'Pablo', ...(languageCode ? { languageCode } : {}) };
  return {
    sent,
    answers,
    chosen: () => chosen,
    async run(command: BotCommandInput['command'], extra: Partial<BotCommandInput> = {}) {
      const input: BotCommandInput = { command, user, messageId: nextMessage++, ...extra };
      const { activities } = fakeActivities(() => overrides);
      const taskQueue = `language-command-${input.messageId}`;
      const worker = await Worker.create({ connection: t.env.nativeConnection, taskQueue, workflowBundle: t.bundle, activities, ...workerTuning });
      await worker.runUntil(t.env.client.workflow.execute('botCommand', { taskQueue, workflowId: botCommandWorkflowId(input), args: [input] }));
    },
  };
}

describe('languages: the video workflow', () => {
  it('speaks Spanish to a user whose Telegram is Spanish, from the progress message to the failure', async () => {
    const { outcome, world } = await video('es-ES', () => ({ pollPrediction: async ({ predictionId }) => failed(predictionId) }));
    expect(outcome).toMatchObject({ status: 'failed', reason: 'generation-failed' });
    expect(world.userSaw).toEqual([es.progress.received, es.failure('generation-failed', 'model crashed')]);
  });

  it('follows the /language choice over Telegram’s language_code', async () => {
    const { world } = await video('en', (w) => {
      w.language = 'es';
      return { pollPrediction: async ({ predictionId }) => ({ id: predictionId, status: 'completed', outputs: ['http://w.test/v.mp4'], nsfw: false }) };
    });
    expect(world.userSaw).toEqual([es.progress.received, es.progress.completed]);
  });

  it('speaks English to a language it does not know', async () => {
    const { world } = await video('pt-BR', () => ({ pollPrediction: async ({ predictionId }) => failed(predictionId) }));
    expect(world.userSaw[0]).toBe(en.progress.received);
  });
});

describe('languages: /language', () => {
  it('asks with a button per language, stores a pressed choice, answers in it, and later commands follow it', async () => {
    const user = commandUser('en');
    await user.run('language');
    expect(user.sent[0]).toMatchObject({ text: en.languagePrompt, buttons: [{ text: 'English', data: 'lang:en' }, { text: 'Español', data: 'lang:es' }] });

    await user.run('language', { args: 'es', callbackQueryId: 'cq-1' });
    expect(user.chosen()).toBe('es');
    expect(user.answers).toEqual([{ callbackQueryId: 'cq-1', text: es.languageChosen }]);
    expect(user.sent[1]!.text).toBe(es.languageChosen);

    await user.run('help');
    expect(user.sent[2]!.text).toBe(es.help);
  });

  it('takes the language as an argument, and asks again for one it does not speak', async () => {
    const user = commandUser('es');
    await user.run('help');
    expect(user.sent[0]!.text).toBe(es.help);
    await user.run('language', { args: 'klingon' });
    expect(user.sent[1]!.text).toBe(es.languagePrompt);
    expect(user.chosen()).toBeUndefined();
    await user.run('language', { args: 'EN' });
    expect(user.chosen()).toBe('en');
    await user.run('unknown');
    expect(user.sent.at(-1)!.text).toBe(en.unknown);
  });
});

describe('hints for what else people send', () => {
  it('answers an album, a sticker, a voice note and an edited caption in the user\'s language', async () => {
    const user = commandUser('es');
    await user.run('album', { once: 'album-1' });
    await user.run('unsupported-media', { args: 'sticker' });
    await user.run('unsupported-media', { args: 'voice' });
    await user.run('unsupported-media', { args: 'something-new' });
    await user.run('edited', { once: 'edit-5-1' });
    expect(user.sent.map((m) => m.text)).toEqual([
      es.album,
      es.unsupportedMedia('sticker'),
      es.unsupportedMedia('voice'),
      es.unsupportedMedia('other'),
      es.edited,
    ]);
    expect(es.unsupportedMedia('sticker')).toContain('un sticker');
  });
});

describe('/history', () => {
  const delivered = [
    { generationId: 'video-88-12', prompt: 'las olas rompen', completedAt: '2026-12-04T10:00:00.000Z', telegramFileId: 'file-12' },
    { generationId: 'video-88-7', prompt: 'el gato parpadea', completedAt: '2026-12-03T09:00:00.000Z', telegramFileId: 'file-7' },
  ];
  const resentButtons: string[][] = [];
  const library = (resent: Array<{ chatId: number; fileId: string }>, refuse = false): ActivityOverrides => ({
    async listDeliveredVideos({ chatId }) {
      return chatId === 88 ? delivered : [];
    },
    async findDeliveredVideo({ chatId, generationId }) {
      return delivered.find((v) => chatId === 88 && v.generationId === generationId);
    },
    async sendCachedVideo({ chatId, fileId, buttons }) {
      if (refuse) throw new TelegramRequestError('sendVideo', 'Bad Request: wrong file identifier');
      resent.push({ chatId, fileId });
      resentButtons.push(buttons?.map((b) => b.data) ?? []);
      return { fileId, deliveredBy: 'cache' };
    },
  });

  it('lists the last videos with a button each, and a press resends that one by its file_id, for free', async () => {
    const resent: Array<{ chatId: number; fileId: string }> = [];
    const user = commandUser('es', library(resent));
    await user.run('history');
    expect(user.sent[0]).toMatchObject({ text: es.history(delivered).text, buttons: [{ text: '🔁 1', data: 'vid:video-88-12' }, { text: '🔁 2', data: 'vid:video-88-7' }] });
    expect(user.sent[0]!.text).toContain('las olas rompen');

    await user.run('resend', { args: 'video-88-7', callbackQueryId: 'cq-h1' });
    expect(resent).toEqual([{ chatId: 88, fileId: 'file-7' }]);
    // A resent video carries the buttons of the one it is.
    expect(resentButtons.at(-1)).toEqual(['again:video-88-7', 'newp:video-88-7']);
    expect(user.answers).toEqual([{ callbackQueryId: 'cq-h1', text: es.resending }]);
    expect(user.sent).toHaveLength(1);
  });

  it('says a video is gone when it is not this chat\'s or Telegram refuses its file_id, and sends nothing', async () => {
    const resent: Array<{ chatId: number; fileId: string }> = [];
    const user = commandUser('en', library(resent));
    await user.run('resend', { args: 'video-99-1', callbackQueryId: 'cq-h2' });
    expect(user.sent.map((m) => m.text)).toEqual([en.resendGone]);

    const refusing = commandUser('en', library(resent, true));
    await refusing.run('resend', { args: 'video-88-12', callbackQueryId: 'cq-h3' });
    expect(refusing.sent.map((m) => m.text)).toEqual([en.resendGone]);
    expect(resent).toEqual([]);
  });

  it('has nothing to list for a user without videos', async () => {
    const user = commandUser('en', { async listDeliveredVideos() { return []; } });
    await user.run('history');
    expect(user.sent[0]).toMatchObject({ text: en.history([]).text });
    expect(user.sent[0]!.buttons).toBeUndefined();
  });
});

describe('the request\'s settings', () => {
  it('submit with the model and length the request was recorded with, not the configured model', async () => {
    const submitted: Array<{ model: string; durationSeconds?: number }> = [];
    await video('en', () => ({
      async admitRequest() {
        return { decision: 'admitted' as const, model: 'wavespeed-ai/wan-2.2/i2v-720p', durationSeconds: 8 };
      },
      async submitGeneration({ model, durationSeconds }) {
        submitted.push({ model, durationSeconds });
        return { predictionId: 'pred-settings' };
      },
      pollPrediction: async ({ predictionId }) => failed(predictionId),
    }));
    expect(submitted).toEqual([{ model: 'wavespeed-ai/wan-2.2/i2v-720p', durationSeconds: 8 }]);
  });
});
