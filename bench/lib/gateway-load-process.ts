import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TgBotUser } from '../../sandbox/simulators/telegram.js';
import { localProbe, type GatewayLoadPlan, type GatewayLoadResult, type GatewayProbe, type GatewaySample } from './gateway-load.js';

/** Messages from the generator's process. */
export type FromGenerator =
  | { type: 'ready'; apiRoot: string; botInfo: TgBotUser }
  | { type: 'sample'; id: number; gc: boolean }
  | { type: 'result'; result: GatewayLoadResult }
  | { type: 'failure'; message: string };

/** Messages to the generator's process. */
export type ToGenerator =
  | { type: 'run'; webhookUrl: string; secret: string; plan: GatewayLoadPlan }
  | { type: 'sample'; id: number; sample: GatewaySample }
  | { type: 'stop' };

/** The Telegram simulator and the load generator, in a process of their own. */
export interface GatewayLoadGenerator {
  /** The simulator's Bot API root, for the gateway's bot. */
  apiRoot: string;
  botInfo: TgBotUser;
  /** Runs `plan` against the webhook at `webhookUrl`; heap and CPU figures come from `probe` (this process by default). */
  run(webhookUrl: string, secret: string, plan: GatewayLoadPlan): Promise<GatewayLoadResult>;
  /** Stops the simulator and the process. */
  stop(): Promise<void>;
}

const entry = fileURLToPath(new URL('./gateway-load-generator.ts', import.meta.url));

/**
 * Starts the Telegram simulator and the load generator in a child process, so
 * that the process running the gateway (this one) does nothing else: its CPU,
 * heap and event loop are the gateway's, and the generator's clock is not
 * delayed by a busy gateway.
 */
export async function startGatewayLoadGenerator(token: string, probe: GatewayProbe = localProbe()): Promise<GatewayLoadGenerator> {
  const child: ChildProcess = fork(entry, [token], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const send = (message: ToGenerator) => {
    if (child.connected) child.send(message);
  };
  let pending: { resolve(result: GatewayLoadResult): void; reject(err: Error): void } | undefined;
  const ready = new Promise<{ apiRoot: string; botInfo: TgBotUser }>((resolve, reject) => {
    child.on('message', (message: FromGenerator) => {
      switch (message.type) {
        case 'ready':
          resolve(message);
          break;
        case 'sample':
          void probe.sample(message.gc).then((sample) => send({ type: 'sample', id: message.id, sample }));
          break;
        case 'result':
          pending?.resolve(message.result);
          pending = undefined;
          break;
        case 'failure':
          pending?.reject(new Error(`load generator failed:\n${message.message}`));
          pending = undefined;
          break;
      }
    });
    child.once('exit', (code, signal) => {
      const err = new Error(`load generator exited (${signal ?? code})`);
      reject(err);
      pending?.reject(err);
      pending = undefined;
    });
  });
  const { apiRoot, botInfo } = await ready;
  return {
    apiRoot,
    botInfo,
    run(webhookUrl, secret, plan) {
      if (pending) return Promise.reject(new Error('a load is already running'));
      return new Promise((resolve, reject) => {
        pending = { resolve, reject };
        send({ type: 'run', webhookUrl, secret, plan });
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      send({ type: 'stop' });
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
}
