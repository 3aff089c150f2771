import { spawn } from 'node:child_process';
import { Api, GrammyError } from 'grammy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_BOT_TOKEN, startSimulators, type RunningSimulators } from '../../sandbox/simulators/index.js';

describe('both simulators together', () => {
  let sims: RunningSimulators;

  beforeAll(async () => {
    sims = await startSimulators({ wavespeed: { latencyMs: 20, processingAfterMs: 5 }, telegram: { rateLimitMode: 'off' } });
  });
  afterAll(() => sims.stop());

  it('lets the bot send a generated video by URL, and refuses one over 20 MB', async () => {
    const api = new Api(SANDBOX_BOT_TOKEN, { apiRoot: sims.telegramApiRoot });
    const update = await sims.telegram.makePhotoUpdate({ chatId: 77 });
    const file = await api.getFile(update.message?.photo?.at(-1)?.file_id ?? '');
    const image = await (await fetch(sims.telegram.fileUrl(file.file_path ?? ''))).arrayBuffer();

    const form = new FormData();
    form.append('file', new Blob([image], { type: 'image/jpeg' }), 'in.jpg');
    const auth = { authorization: 'Bearer sandbox-key' };
    const uploaded = (await (await fetch(`${sims.wavespeedBaseUrl}/api/v3/media/upload/binary`, { method: 'POST', headers: auth, body: form })).json()) as {
      data: { download_url: string };
    };
    const submit = async (prompt: string): Promise<string> => {
      const res = await fetch(`${sims.wavespeedBaseUrl}/api/v3/wavespeed-ai/wan-2.2/i2v-720p`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ image: uploaded.data.download_url, prompt, duration: 8 }),
      });
      const { data } = (await res.json()) as { data: { id: string } };
      const done = await sims.wavespeed.whenSettled(data.id);
      return done.outputs[0] ?? '';
    };

    const small = await api.sendVideo(77, await submit('small'));
    expect(small.video).toMatchObject({ width: 1280, height: 720, duration: 8, file_size: 100 * 1024 });
    const big = await api.sendVideo(77, await submit(`big [bytes:${25 * 1024 * 1024}]`)).catch((e: unknown) => e);
    expect(big).toBeInstanceOf(GrammyError);
    expect((big as GrammyError).description).toBe('Bad Request: failed to get HTTP URL content');
  });
});

describe('sandbox CLI', () => {
  it('prints both URLs and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'sandbox/simulators/cli.ts'], {
      env: { ...process.env, TELEGRAM_SIM_PORT: '0', WAVESPEED_SIM_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const deadline = Date.now() + 15_000;
    while (!output.includes('Ctrl-C') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const telegramUrl = /Telegram Bot API simulator: (\S+)/.exec(output)?.[1];
    expect(telegramUrl, output).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(output).toMatch(/WaveSpeed API simulator: +http:\/\/127\.0\.0\.1:\d+/);
    const me = (await (await fetch(`${telegramUrl}/bot${SANDBOX_BOT_TOKEN}/getMe`)).json()) as { ok: boolean };
    expect(me.ok).toBe(true);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 20_000);
});
