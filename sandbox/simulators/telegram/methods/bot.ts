import type { MethodSpec } from '../context.js';
import { badRequest, TelegramApiError } from '../errors.js';

const SECRET_TOKEN = /^[A-Za-z0-9_-]{1,256}$/;
const WEBHOOK_PORTS = new Set(['', '80', '88', '443', '8443']);

function commandsKey(scope: unknown, languageCode: string | undefined): string {
  return `${JSON.stringify(scope ?? { type: 'default' })}|${languageCode ?? ''}`;
}

/** Bot identity, webhook and polling setup, commands, callback answers. */
export const botMethods: Record<string, MethodSpec> = {
  getMe: {
    handler: (_params, ctx) => ctx.bot,
  },

  setWebhook: {
    handler(params, ctx) {
      const url = params.string('url')?.trim() ?? '';
      if (params.bool('drop_pending_updates')) ctx.updates.clear();
      if (url === '') {
        ctx.webhook.clear();
        return true;
      }
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        throw badRequest('bad webhook: invalid webhook URL specified');
      }
      if (ctx.requireHttpsWebhook && parsed.protocol !== 'https:') {
        throw badRequest('bad webhook: An HTTPS URL must be provided for webhook');
      }
      if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
        throw badRequest('bad webhook: An HTTPS URL must be provided for webhook');
      }
      if (ctx.requireHttpsWebhook && !WEBHOOK_PORTS.has(parsed.port)) {
        throw badRequest('bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443');
      }
      const secret = params.string('secret_token');
      if (secret !== undefined && !SECRET_TOKEN.test(secret)) {
        throw badRequest('secret token contains unallowed characters');
      }
      const maxConnections = params.int('max_connections', () => badRequest('invalid max_connections specified'));
      if (maxConnections !== undefined && (maxConnections < 1 || maxConnections > 100)) {
        throw badRequest('invalid max_connections specified');
      }
      const allowed = params.json('allowed_updates', () => badRequest("can't parse allowed updates JSON array"));
      if (allowed !== undefined && !Array.isArray(allowed)) throw badRequest("can't parse allowed updates JSON array");
      ctx.webhook.set(url, secret, maxConnections, allowed as string[] | undefined);
      ctx.updates.wake();
      return true;
    },
  },

  deleteWebhook: {
    handler(params, ctx) {
      if (params.bool('drop_pending_updates')) ctx.updates.clear();
      ctx.webhook.clear();
      return true;
    },
  },

  getWebhookInfo: {
    handler(_params, ctx) {
      const info = ctx.webhook.info();
      if (!info.url) info.pending_update_count = ctx.updates.size;
      return info;
    },
  },

  getUpdates: {
    async handler(params, ctx) {
      if (ctx.webhook.url) {
        throw new TelegramApiError(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first");
      }
      const invalid = (): TelegramApiError => badRequest('invalid parameter');
      const offset = params.int('offset', invalid);
      const limit = Math.min(100, Math.max(1, params.int('limit', invalid) ?? 100));
      const timeout = Math.max(0, params.int('timeout', invalid) ?? 0);
      const updates = await ctx.updates.take(offset, limit, timeout * 1000, ctx.timers);
      if (updates === 'conflict') {
        throw new TelegramApiError(409, 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running');
      }
      return updates;
    },
  },

  setMyCommands: {
    handler(params, ctx) {
      const commands = params.json('commands', () => badRequest("can't parse commands JSON object"));
      if (!Array.isArray(commands)) throw badRequest('parameter "commands" is required');
      if (commands.length > 100) throw badRequest('too many commands specified');
      for (const c of commands as unknown[]) {
        const cmd = (typeof c === 'object' && c !== null ? c : {}) as Record<string, unknown>;
        if (typeof cmd['command'] !== 'string' || !/^[a-z0-9_]{1,32}$/.test(cmd['command'])) throw badRequest('BOT_COMMAND_INVALID');
        const d = cmd['description'];
        if (typeof d !== 'string' || d.length < 1 || d.length > 256) throw badRequest('BOT_COMMAND_DESCRIPTION_INVALID');
      }
      ctx.commands.set(commandsKey(params.json('scope', () => badRequest("can't parse BotCommandScope JSON object")), params.string('language_code')), commands);
      return true;
    },
  },

  getMyCommands: {
    handler(params, ctx) {
      return ctx.commands.get(commandsKey(params.json('scope', () => badRequest("can't parse BotCommandScope JSON object")), params.string('language_code'))) ?? [];
    },
  },

  deleteMyCommands: {
    handler(params, ctx) {
      ctx.commands.delete(commandsKey(params.json('scope', () => badRequest("can't parse BotCommandScope JSON object")), params.string('language_code')));
      return true;
    },
  },

  answerCallbackQuery: {
    handler(params, ctx) {
      const id = params.string('callback_query_id')?.trim();
      if (!id || !ctx.callbackQueries.has(id)) {
        throw badRequest('query is too old and response timeout expired or query ID is invalid');
      }
      if ((params.string('text') ?? '').length > 200) throw badRequest('MESSAGE_TOO_LONG');
      ctx.callbackQueries.delete(id);
      return true;
    },
  },
};
