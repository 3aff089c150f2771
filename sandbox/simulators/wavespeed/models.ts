/** An error answered as `{ code, message }` with the same HTTP status, as WaveSpeed does. */
export class WavespeedApiError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'WavespeedApiError';
  }
}

const invalid = (message: string): WavespeedApiError => new WavespeedApiError(400, message);

/** What a model accepts and what video it makes. */
export interface ModelSpec {
  /** Accepted `size` values (`W*H`); absent when the model takes no size. */
  sizes?: readonly string[];
  /** Output frame size when the model takes no size. */
  fixedSize?: string;
  durations: readonly number[];
}

/** The image-to-video models the simulator knows. */
export const MODELS: Readonly<Record<string, ModelSpec>> = {
  'wavespeed-ai/wan-2.2/i2v-480p': { sizes: ['832*480', '480*832'], durations: [5, 8] },
  'wavespeed-ai/wan-2.2/i2v-720p': { sizes: ['1280*720', '720*1280'], durations: [5, 8] },
  'kwaivgi/kling-v2.1-i2v-pro': { fixedSize: '1920*1080', durations: [5, 10] },
};

/** A checked submission: the echoed input and the video it will produce. */
export interface ValidatedInput {
  input: Record<string, unknown>;
  width: number;
  height: number;
  durationSeconds: number;
}

function isHttpUrl(v: unknown): v is string {
  if (typeof v !== 'string') return false;
  try {
    const u = new URL(v);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

/** Checks the body of a submission; throws a 400 naming the field that is wrong. */
export function validateInput(spec: ModelSpec, body: unknown): ValidatedInput {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('request body must be a JSON object');
  const input: Record<string, unknown> = { ...(body as Record<string, unknown>) };
  delete input['webhook_url'];
  delete input['enable_sync_mode'];

  if (input['image'] === undefined || input['image'] === '') throw invalid('image is required');
  if (!isHttpUrl(input['image'])) throw invalid('image must be a valid http(s) URL');
  if (input['prompt'] === undefined || input['prompt'] === '') throw invalid('prompt is required');
  if (typeof input['prompt'] !== 'string') throw invalid('prompt must be a string');
  if (input['negative_prompt'] !== undefined && typeof input['negative_prompt'] !== 'string') {
    throw invalid('negative_prompt must be a string');
  }

  let size = spec.fixedSize ?? '';
  if (spec.sizes) {
    size = input['size'] === undefined ? (spec.sizes[0] ?? '') : String(input['size']);
    if (!spec.sizes.includes(size)) throw invalid(`size must be one of: ${spec.sizes.join(', ')}`);
    input['size'] = size;
  }

  const rawDuration = input['duration'] ?? spec.durations[0];
  const duration = typeof rawDuration === 'string' && /^\d+$/.test(rawDuration) ? Number(rawDuration) : rawDuration;
  if (typeof duration !== 'number' || !spec.durations.includes(duration)) {
    throw invalid(`duration must be one of: ${spec.durations.join(', ')}`);
  }
  input['duration'] = rawDuration;

  const seed = input['seed'] ?? -1;
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < -1 || seed > 2147483647) {
    throw invalid('seed must be an integer between -1 and 2147483647');
  }
  input['seed'] = seed;

  const [width, height] = size.split('*').map(Number);
  return { input, width: width ?? 0, height: height ?? 0, durationSeconds: duration };
}

/** Test markers in a prompt that force a path; see the simulator's docs. */
export interface PromptMarkers {
  reject: boolean;
  fail: boolean;
  nsfw: boolean;
  timeout: boolean;
  loseCallback: boolean;
  slowMs?: number;
  outputBytes?: number;
}

export function readMarkers(prompt: string): PromptMarkers {
  const slow = /\[slow:(\d+)\]/.exec(prompt)?.[1];
  const bytes = /\[bytes:(\d+)\]/.exec(prompt)?.[1];
  const markers: PromptMarkers = {
    reject: prompt.includes('[reject]'),
    fail: prompt.includes('[fail]'),
    nsfw: prompt.includes('[nsfw]'),
    timeout: prompt.includes('[timeout]'),
    loseCallback: prompt.includes('[lose-callback]'),
  };
  if (slow !== undefined) markers.slowMs = Number(slow);
  if (bytes !== undefined) markers.outputBytes = Number(bytes);
  return markers;
}
