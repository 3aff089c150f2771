import type { Catalog } from '../../src/db/catalog.js';
import { CallbackTokens } from '../../src/integrations/wavespeed/callback-token.js';
import type { AdmissionState } from '../../src/workflows/admission/messages.js';
import type { PredictionResult } from '../../src/integrations/wavespeed/types.js';
import { TemporalUnavailableError, type DistributionStart, type StartResult, type WorkflowGateway } from '../../src/temporal/client/starter.js';
import { botCommandWorkflowId, summaryWorkflowId, videoWorkflowId } from '../../src/workflows/ids.js';
import type { BotCommandInput } from '../../src/workflows/command/workflow.js';
import type { VideoRequest } from '../../src/workflows/video/messages.js';

/**
 * A WorkflowGateway that remembers what it was asked, behaves like Temporal for
 * duplicate ids, and can be switched to "Temporal unreachable".
 */
export class FakeWorkflows implements WorkflowGateway {
  videos: Array<Omit<VideoRequest, 'deadlineMs' | 'model' | 'polling'>> = [];
  commands: BotCommandInput[] = [];
  signals: Array<{ workflowId: string; result: PredictionResult }> = [];
  running = new Set<string>();
  unavailable = false;

  async startVideo(request: Omit<VideoRequest, 'deadlineMs' | 'model' | 'polling'>): Promise<StartResult> {
    return this.start(videoWorkflowId(request.user.chatId, request.messageId), () => this.videos.push(request));
  }

  async startCommand(input: BotCommandInput): Promise<StartResult> {
    return this.start(botCommandWorkflowId(input), () => this.commands.push(input));
  }

  distributions: number[] = [];
  distributionSources: string[] = [];

  async startDistribution({ summaryId, sourceSlug }: DistributionStart): Promise<StartResult> {
    return this.start(summaryWorkflowId(summaryId), () => {
      this.distributions.push(summaryId);
      this.distributionSources.push(sourceSlug);
    });
  }

  async signalWavespeedResult(workflowId: string, result: PredictionResult): Promise<boolean> {
    if (this.unavailable) throw new TemporalUnavailableError();
    if (!this.running.has(workflowId)) return false;
    this.signals.push({ workflowId, result });
    return true;
  }

  generation: AdmissionState = { paused: false, maxConcurrency: 3, holders: [], draining: [], queue: [] };

  async setGenerationPaused(paused: boolean): Promise<void> {
    if (this.unavailable) throw new TemporalUnavailableError();
    this.generation = { ...this.generation, paused };
  }

  async generationState(): Promise<AdmissionState> {
    if (this.unavailable) throw new TemporalUnavailableError();
    return this.generation;
  }

  private start(workflowId: string, record: () => void): StartResult {
    if (this.unavailable) throw new TemporalUnavailableError();
    if (this.running.has(workflowId)) return { workflowId, started: false };
    this.running.add(workflowId);
    record();
    return { workflowId, started: true };
  }
}

/** The API key the gateway tests' callback tokens are keyed by. */
export const CALLBACK_TOKEN_KEY = 'ws-gateway-test-key';
/** Callback tokens as the worker's WaveSpeed client (same API key) makes them. */
export const CALLBACK_TOKENS = new CallbackTokens(CALLBACK_TOKEN_KEY);

/** For tests that never reach the operators' API (see api.test.ts). */
export const UNUSED_CATALOG: Catalog = {
  upsertSource: () => Promise.reject(new Error('no catalog in this test')),
  acceptSummary: () => Promise.reject(new Error('no catalog in this test')),
};
