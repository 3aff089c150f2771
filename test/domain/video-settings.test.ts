import { describe, expect, it } from 'vitest';
import { GENERATION_PARAMS, generationParams } from '../../src/activities/wavespeed.js';
import { WAVESPEED_LIST_PRICES, WAVESPEED_MODELS } from '../../src/constants.js';
import { WAVESPEED_DURATIONS, effectiveSettings } from '../../src/domain/video-settings.js';

const WAN_480 = 'wavespeed-ai/wan-2.2/i2v-480p';
const WAN_720 = 'wavespeed-ai/wan-2.2/i2v-720p';
const KLING = 'kwaivgi/kling-v2.1-i2v-pro';

describe('a request\'s settings', () => {
  it('are the configured model at its default length until the user chooses', () => {
    expect(effectiveSettings({}, WAN_480)).toEqual({ model: WAN_480, durationSeconds: 5 });
  });

  it('follow the user\'s choice where it is offered, and fall back where it no longer fits', () => {
    expect(effectiveSettings({ videoModel: WAN_720, videoDuration: 8 }, WAN_480)).toEqual({ model: WAN_720, durationSeconds: 8 });
    expect(effectiveSettings({ videoModel: KLING, videoDuration: 8 }, WAN_480)).toEqual({ model: KLING, durationSeconds: 5 });
    expect(effectiveSettings({ videoModel: 'someone/withdrawn-model', videoDuration: 8 }, WAN_480)).toEqual({ model: WAN_480, durationSeconds: 8 });
  });

  it('offer every length a price is listed for, and price every length offered', () => {
    for (const model of WAVESPEED_MODELS) expect(Object.keys(WAVESPEED_LIST_PRICES[model]).map(Number).sort()).toEqual([...WAVESPEED_DURATIONS[model]].sort());
  });

  it('keep a default request\'s submission (and result-cache key) as before lengths could be chosen', () => {
    expect(generationParams(WAN_480, undefined)).toBe(GENERATION_PARAMS);
    expect(generationParams(WAN_480, 5)).toBe(GENERATION_PARAMS);
    expect(generationParams(WAN_480, 8)).toEqual({ ...GENERATION_PARAMS, duration: 8 });
    expect(generationParams(KLING, 10)).toEqual({ ...GENERATION_PARAMS, duration: 10 });
  });
});
