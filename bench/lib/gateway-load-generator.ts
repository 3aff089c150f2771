/**
 * The Telegram simulator and the gateway load generator, run as a child process
 * (see ./gateway-load-process.ts): it announces the simulator's address, runs
 * one plan when told, asking the parent for the gateway's heap and CPU at the
 * measuring points, answers with the figures, and exits when told to stop.
 */
import { TelegramSimulator } from '../../sandbox/simulators/telegram.js';
import { runGatewayLoad, type GatewayProbe, type GatewaySample } from './gateway-load.js';
import type { FromGenerator, ToGenerator } from './gateway-load-process.js';

const send = (message: FromGenerator) => process.send!(message);

async function main(): Promise<void> {
  const token = process.argv[2];
  if (!token) throw new Error('usage: gateway-load-generator.ts <bot token>');
  const telegram = new TelegramSimulator({ token });
  const apiRoot = await telegram.start();

  let nextId = 0;
  const waiting = new Map<number, (sample: GatewaySample) => void>();
  const probe: GatewayProbe = {
    sample: (gc) =>
      new Promise((resolve) => {
        const id = nextId++;
        waiting.set(id, resolve);
        send({ type: 'sample', id, gc });
      }),
  };

  process.on('message', (message: ToGenerator) => {
    switch (message.type) {
      case 'run':
        runGatewayLoad(telegram, { url: message.webhookUrl, secret: message.secret }, message.plan, probe).then(
          (result) => send({ type: 'result', result }),
          (err: unknown) => send({ type: 'failure', message: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
        );
        break;
      case 'sample':
        waiting.get(message.id)?.(message.sample);
        waiting.delete(message.id);
        break;
      case 'stop':
        process.disconnect();
        break;
    }
  });
  // The parent gone, nothing is left to do.
  process.once('disconnect', () => void telegram.stop().finally(() => process.exit(0)));
  send({ type: 'ready', apiRoot, botInfo: telegram.botInfo });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
