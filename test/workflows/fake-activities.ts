import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { Activities } from '../../src/activities/index.js';
import { withFailureMapping } from '../../src/activities/failure.js';
import type { PredictionResult } from '../../src/integrations/wavespeed/types.js';
import { permitGrantedSignal } from '../../src/workflows/admission/messages.js';
import type { Language } from '../../src/i18n/catalog.js';

/** What a fake activity world saw, for assertions about the workflow's behaviour. */
export interface FakeWorld {
  /** Text the user saw, in order: sent messages and the edits of the progress message. */
  userSaw: string[];
  videos: Array<{ chatId: number; videoUrl: string }>;
  outcomes: Array<{ status: string; errorKind?: string; error?: string; telegramFileId?: string }>;
  phases: string[];
  blockedUsers: number[];
  polls: number;
  /** Each beat of the fleet presence loop: when (workflow time) and the chats it showed "sending video…". */
  presenceBeats: Array<{ at: number; chatIds: number[] }>;
  attempts: Record<string, Array<{ attempt: number; scheduledAt: number }>>;
  /** The result cache, by `md5|prompt|model`: a claim (`generating`) or a stored video (`ready`). */
  cache: Map<string, { status: 'generating' | 'ready'; leaderId: string; telegramFileId?: string }>;
  /** Every WaveSpeed submission, by generation id. */
  submits: string[];
  /** Videos resent by file_id from the result cache. */
  resent: Array<{ chatId: number; fileId: string }>;
  /** WaveSpeed permits asked for and given back, by requester. */
  permitsRequested: string[];
  permitsReleased: Array<{ requesterId: string; running?: { predictionId: string; until: number } }>;
  /** The user's /language choice (one user per test world). */
  language?: Language;
}

export type ActivityOverrides = Partial<{ [K in keyof Activities]: (...args: Parameters<Activities[K]>) => ReturnType<Activities[K]> }>;

/**
 * In-memory activities with the real failure mapping, so workflows see the same
 * failure types as in production. Overrides replace single activities.
 */
export function fakeActivities(
  overrides: (world: FakeWorld) => ActivityOverrides = () => ({}),
  options: { temporal?: Client } = {},
): { activities: Activities; world: FakeWorld } {
  const world: FakeWorld = {
    userSaw: [],
    videos: [],
    outcomes: [],
    phases: [],
    blockedUsers: [],
    polls: 0,
    presenceBeats: [],
    attempts: {},
    cache: new Map(),
    submits: [],
    resent: [],
    permitsRequested: [],
    permitsReleased: [],
  };
  const cacheKey = (input: { imageMd5: string; prompt: string; model: string }) => `${input.imageMd5}|${input.prompt.trim()}|${input.model}`;
  let nextMessageId = 1000;
  const track = (name: string) => {
    const info = Context.current().info;
    (world.attempts[name] ??= []).push({ attempt: info.attempt, scheduledAt: info.currentAttemptScheduledTimestampMs });
  };
  const base: Partial<Activities> = {
    async registerUser() {
      return { created: true };
    },
    async markUserBlocked({ userId }) {
      world.blockedUsers.push(userId);
    },
    async registerRequest() {},
    async admitRequest() {
      return { decision: 'admitted' as const, ...(world.language ? { language: world.language } : {}) };
    },
    async recordCommand() {
      return world.language ? { language: world.language } : {};
    },
    async chooseLanguage({ language }) {
      world.language = language;
    },
    async recordPhase({ status }) {
      world.phases.push(status);
    },
    async recordOutcome(input) {
      world.outcomes.push(input);
    },
    async listRecentGenerations() {
      return [];
    },
    async findActiveGenerations() {
      return [];
    },
    async sendMessage({ text }) {
      track('sendMessage');
      world.userSaw.push(text);
      return { messageId: nextMessageId++ };
    },
    async updateProgress({ text }) {
      world.userSaw.push(text);
    },
    async showChatActions({ chatIds }) {
      world.presenceBeats.push({ at: Date.now(), chatIds });
      return { shown: chatIds.length, skipped: 0 };
    },
    async prepareImage() {
      return { imageUrl: 'http://wavespeed.test/media/a.jpg', md5: 'd41d8cd98f00b204e9800998ecf8427e', bytes: 1234, width: 1024, height: 768 };
    },
    async submitGeneration() {
      world.submits.push(Context.current().info.workflowExecution?.workflowId ?? '');
      return { predictionId: 'pred-1' };
    },
    async fingerprintImage() {
      return { md5: 'd41d8cd98f00b204e9800998ecf8427e', bytes: 1234, width: 1024, height: 768 };
    },
    async claimResult(input) {
      const key = cacheKey(input);
      const entry = world.cache.get(key);
      if (entry?.status === 'ready') return { kind: 'hit', key, video: { telegramFileId: entry.telegramFileId!, generationId: entry.leaderId } };
      if (!entry || entry.leaderId === input.generationId) {
        world.cache.set(key, { status: 'generating', leaderId: input.generationId });
        return { kind: 'leader', key };
      }
      return { kind: 'follower', key, leaderId: entry.leaderId, leaseUntil: new Date(Date.now() + input.leaseMs).toISOString() };
    },
    async storeResult(input) {
      world.cache.set(cacheKey(input), { status: 'ready', leaderId: input.generationId, telegramFileId: input.telegramFileId });
    },
    async releaseClaim(input) {
      const key = cacheKey(input);
      if (world.cache.get(key)?.leaderId === input.generationId && world.cache.get(key)?.status === 'generating') world.cache.delete(key);
    },
    async forgetResult(input) {
      world.cache.delete(cacheKey(input));
    },
    async sendCachedVideo({ chatId, fileId }) {
      world.resent.push({ chatId, fileId });
      return { messageId: nextMessageId++, fileId, deliveredBy: 'cache' as const };
    },
    async pollPrediction({ predictionId }): Promise<PredictionResult> {
      world.polls += 1;
      return { id: predictionId, status: 'processing', outputs: [], nsfw: false };
    },
    // A WaveSpeed with free slots: every permit is granted at once.
    async requestPermit({ requesterId }) {
      world.permitsRequested.push(requesterId);
      if (!options.temporal) throw new Error('fakeActivities needs { temporal } to grant permits');
      await options.temporal.workflow.getHandle(requesterId).signal(permitGrantedSignal);
      return {};
    },
    async releasePermit(input) {
      world.permitsReleased.push(input);
    },
    async sendVideo({ chatId, videoUrl }) {
      track('sendVideo');
      world.videos.push({ chatId, videoUrl });
      return { messageId: nextMessageId++, fileId: 'file-video-1', deliveredBy: 'url' as const, bytes: 1000 };
    },
  };
  const activities = withFailureMapping({ ...base, ...(overrides(world) as Partial<Activities>) } as Activities);
  return { activities, world };
}

