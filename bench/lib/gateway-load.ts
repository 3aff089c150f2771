import { Agent, request } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { TelegramSimulator, TgUpdate } from '../../sandbox/simulators/telegram.js';
import { summarize, type Summary } from './stats.js';

/** What the gateway is sent: Telegram redelivering updates it already took, new commands, new photos. */
export type LoadRequestKind = 'redelivery' | 'command' | 'photo';

/** An open-loop load: `rate` requests a second for `seconds`, after `warmupSeconds` at the same rate (not measured). */
export interface GatewayLoadPlan {
  rate: number;
  seconds: number;
  warmupSeconds: number;
  /** Distinct users the new commands and photos come from. */
  users: number;
  /** Shares of each kind, summing to 1. */
  mix: Record<LoadRequestKind, number>;
  /** Updates taken before the load starts, whose redeliveries make up the `redelivery` share. */
  redeliveryPool: number;
}

/** The gateway's process as the generator sees it: its memory and the CPU it has used. */
export interface GatewayProbe {
  /**
   * The gateway process's heap and RSS in bytes, after a full garbage collection
   * when `gc`, and the CPU time it has used so far (user + system) in ms, read
   * before that collection.
   */
  sample(gc: boolean): Promise<GatewaySample>;
}

export interface GatewaySample {
  heapUsed: number;
  rss: number;
  cpuMs: number;
}

/** Figures of one run; heap figures are after a full garbage collection, in MiB. */
export interface GatewayLoadResult {
  sent: number;
  seconds: number;
  /** Requests answered per second over the measured part. */
  answeredPerSecond: number;
  /** HTTP status (0: no answer) → count, over the measured part. */
  statuses: Record<number, number>;
  byKind: Record<LoadRequestKind, number>;
  latency: Summary;
  /** How late the generator sent compared with its schedule (its own health, not the gateway's). */
  sendLagMaxMs: number;
  heapBeforeMiB: number;
  heapAfterMiB: number;
  rssBeforeMiB: number;
  rssAfterMiB: number;
  /** Heap after the warm-up, then every 5 s of the measured part. */
  heapTimelineMiB: number[];
  /** CPU the gateway's process used over the measured part, per request sent, in ms. */
  gatewayCpuMsPerUpdate: number;
  /** CPU the generator's own process used over the measured part, per request sent, in ms. */
  generatorCpuMsPerUpdate: number;
}

/** Where the updates go: the gateway's webhook and the secret Telegram sends with each. */
export interface WebhookTarget {
  url: string;
  secret: string;
}

const REQUEST_TIMEOUT_MS = 15_000;

/**
 * POSTs one update as Telegram does (JSON, the secret header) on a keep-alive
 * agent; resolves to the status, 0 when there was no answer within the timeout.
 */
function post(url: URL, agent: Agent, secret: string, update: TgUpdate): Promise<number> {
  const body = JSON.stringify(update);
  return new Promise((resolve) => {
    const headers = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'x-telegram-bot-api-secret-token': secret };
    // From the send, as Telegram counts: time spent waiting for one of the agent's sockets included.
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)), REQUEST_TIMEOUT_MS);
    const done = (status: number) => {
      clearTimeout(timer);
      resolve(status);
    };
    const req = request(url, { method: 'POST', agent, headers }, (res) => {
      res.resume();
      res.once('end', () => done(res.statusCode ?? 0));
      res.once('error', () => done(0));
    });
    req.once('error', () => done(0));
    req.end(body);
  });
}

/** A full garbage collection, available without `--expose-gc` on the command line. */
export function garbageCollector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** A {@link GatewayProbe} of this process, for a gateway running here. */
export function localProbe(): GatewayProbe {
  const gc = garbageCollector();
  return {
    sample: (collect) => {
      const cpu = process.cpuUsage();
      if (collect) gc();
      const { heapUsed, rss } = process.memoryUsage();
      return Promise.resolve({ heapUsed, rss, cpuMs: (cpu.user + cpu.system) / 1000 });
    },
  };
}

const mib = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

/**
 * Posts updates to the gateway's webhook as Telegram posts them (JSON, secret
 * header) on an open-loop schedule, and counts the answers. New updates are
 * copies of the Telegram simulator's own updates with fresh `update_id`, chat,
 * user and message ids. The posts go out on a keep-alive `node:http` agent
 * rather than through the simulator's `pushUpdate` (`fetch`, and a webhook
 * reply run as an API call): the generator has to keep its schedule at 500/s
 * on a shared machine. Heap and CPU figures are the gateway
 * process's, read through `probe`: run this in another process (see
 * ./gateway-load-process.ts) and they are the gateway's alone.
 */
export async function runGatewayLoad(
  telegram: TelegramSimulator,
  target: WebhookTarget,
  plan: GatewayLoadPlan,
  probe: GatewayProbe,
  firstChatId = 5_000_000,
): Promise<GatewayLoadResult> {
  // Telegram opens at most 100 connections at once; more here, so that only the gateway queues requests.
  const agent = new Agent({ keepAlive: true, maxSockets: 1024 });
  const url = new URL(target.url);
  const photoTemplate = await telegram.makePhotoUpdate({ chatId: firstChatId - 1, width: 64, height: 48, caption: 'a kite over the dunes' });
  const commandTemplate = telegram.makeTextUpdate({ chatId: firstChatId - 1, text: '/help' });
  let nextUpdateId = 1_000_000_000;
  let nextMessageId = 1_000_000;
  let userCursor = 0;
  const fresh = (kind: 'command' | 'photo'): TgUpdate => {
    const id = firstChatId + (userCursor++ % plan.users);
    const template = kind === 'photo' ? photoTemplate : commandTemplate;
    const message = template.message!;
    return {
      update_id: nextUpdateId++,
      message: { ...message, message_id: nextMessageId++, from: { ...message.from!, id }, chat: { ...message.chat, id } },
    };
  };
  const pool: TgUpdate[] = [];
  for (let i = 0; i < plan.redeliveryPool; i++) {
    const update = fresh(i % 2 ? 'photo' : 'command');
    const first = await post(url, agent, target.secret, update);
    if (first !== 200) throw new Error(`seeding the redelivery pool: update ${update.update_id} answered ${first}`);
    pool.push(update);
  }

  const kinds = Object.entries(plan.mix) as Array<[LoadRequestKind, number]>;
  const pick = (i: number): LoadRequestKind => {
    // A fixed interleaving (no randomness): request i's kind by its position in a 100-slot cycle.
    let slot = ((i * 37) % 100) / 100;
    for (const [kind, share] of kinds) {
      if (slot < share) return kind;
      slot -= share;
    }
    return kinds[kinds.length - 1]![0];
  };

  const warmup = Math.round(plan.rate * plan.warmupSeconds);
  const total = warmup + Math.round(plan.rate * plan.seconds);
  const statuses: Record<number, number> = {};
  const byKind: Record<LoadRequestKind, number> = { redelivery: 0, command: 0, photo: 0 };
  const latencies: number[] = [];
  const heapTimelineMiB: number[] = [];
  let sendLagMaxMs = 0;
  let before: Promise<GatewaySample> | undefined;
  let ownCpuBefore = process.cpuUsage();
  const timeline: Array<Promise<GatewaySample>> = [];
  const inFlight = new Set<Promise<void>>();

  const send = (i: number, scheduled: number) => {
    const kind = pick(i);
    const update = kind === 'redelivery' ? pool[i % pool.length]! : fresh(kind);
    const sent = performance.now();
    if (i >= warmup) sendLagMaxMs = Math.max(sendLagMaxMs, sent - scheduled);
    const request = post(url, agent, target.secret, update).then((status) => {
      if (i < warmup) return;
      statuses[status] = (statuses[status] ?? 0) + 1;
      byKind[kind]++;
      latencies.push(performance.now() - sent);
    });
    inFlight.add(request);
    void request.finally(() => inFlight.delete(request));
  };

  const started = performance.now();
  let measuredFrom = started;
  let next = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (next < total && started + (next * 1000) / plan.rate <= now) {
        if (next === warmup) {
          ownCpuBefore = process.cpuUsage();
          before = probe.sample(true);
          timeline.push(before);
          measuredFrom = performance.now();
        } else if (next > warmup && (next - warmup) % (plan.rate * 5) === 0) {
          timeline.push(probe.sample(false));
        }
        send(next, started + (next * 1000) / plan.rate);
        next++;
      }
      if (next < total) setTimeout(tick, 2);
      else resolve();
    };
    tick();
  });
  await Promise.all(inFlight);
  const measuredMs = performance.now() - measuredFrom;
  const ownCpu = process.cpuUsage(ownCpuBefore);
  agent.destroy();
  const after = await probe.sample(true);
  const first = await before!;
  for (const sample of await Promise.all(timeline)) heapTimelineMiB.push(mib(sample.heapUsed));
  const answered = Object.entries(statuses).reduce((n, [status, count]) => n + (Number(status) > 0 ? count : 0), 0);
  return {
    sent: total - warmup,
    seconds: plan.seconds,
    answeredPerSecond: Math.round((answered / measuredMs) * 1000 * 10) / 10,
    statuses,
    byKind,
    latency: summarize(latencies),
    sendLagMaxMs,
    heapBeforeMiB: mib(first.heapUsed),
    heapAfterMiB: mib(after.heapUsed),
    rssBeforeMiB: mib(first.rss),
    rssAfterMiB: mib(after.rss),
    heapTimelineMiB,
    gatewayCpuMsPerUpdate: Math.round(((after.cpuMs - first.cpuMs) / (total - warmup)) * 1000) / 1000,
    generatorCpuMsPerUpdate: Math.round(((ownCpu.user + ownCpu.system) / 1000 / (total - warmup)) * 1000) / 1000,
  };
}
