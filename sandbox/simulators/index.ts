import { TelegramSimulator, type TelegramSimulatorOptions } from './telegram.js';
import { WavespeedSimulator, type WavespeedSimulatorOptions } from './wavespeed.js';

export * from './telegram.js';
export * from './wavespeed.js';
export type { Latency } from './shared/timers.js';
export type { SimulatorLogger } from './shared/server.js';

/** Options of {@link startSimulators}: each simulator's own, with sandbox defaults. */
export interface StartSimulatorsOptions {
  telegram?: Partial<TelegramSimulatorOptions>;
  wavespeed?: Partial<WavespeedSimulatorOptions>;
}

/** Both simulators, running. */
export interface RunningSimulators {
  telegram: TelegramSimulator;
  wavespeed: WavespeedSimulator;
  /** Give to grammY as `client.apiRoot`. */
  telegramApiRoot: string;
  /** Use instead of `https://api.wavespeed.ai`. */
  wavespeedBaseUrl: string;
  stop(): Promise<void>;
}

/** Default bot token of the sandbox (the part before `:` is the bot id). */
export const SANDBOX_BOT_TOKEN = '123456:sandbox-token';
/** Default WaveSpeed API key of the sandbox. */
export const SANDBOX_WAVESPEED_KEY = 'sandbox-key';

/** Starts the Telegram and WaveSpeed simulators (random ports unless given); stops both if either fails. */
export async function startSimulators(opts: StartSimulatorsOptions = {}): Promise<RunningSimulators> {
  const telegram = new TelegramSimulator({ token: SANDBOX_BOT_TOKEN, ...opts.telegram });
  const wavespeed = new WavespeedSimulator({ apiKey: SANDBOX_WAVESPEED_KEY, ...opts.wavespeed });
  try {
    const [telegramApiRoot, wavespeedBaseUrl] = await Promise.all([telegram.start(), wavespeed.start()]);
    return {
      telegram,
      wavespeed,
      telegramApiRoot,
      wavespeedBaseUrl,
      stop: async () => {
        await Promise.all([telegram.stop(), wavespeed.stop()]);
      },
    };
  } catch (err) {
    await Promise.allSettled([telegram.stop(), wavespeed.stop()]);
    throw err;
  }
}
