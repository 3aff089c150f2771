/**
 * A Bot API failure as Telegram reports it: HTTP status = `errorCode`, JSON body
 * `{ ok: false, error_code, description, parameters? }`. `asHtml` reproduces the
 * nginx error page Telegram's front end returns for 502s, which is not JSON.
 */
export class TelegramApiError extends Error {
  constructor(
    readonly errorCode: number,
    readonly description: string,
    readonly parameters?: { retry_after?: number; migrate_to_chat_id?: number },
    readonly asHtml = false,
  ) {
    super(description);
    this.name = 'TelegramApiError';
  }
}

export const badRequest = (what: string): TelegramApiError => new TelegramApiError(400, `Bad Request: ${what}`);

export const tooManyRequests = (retryAfter: number): TelegramApiError =>
  new TelegramApiError(429, `Too Many Requests: retry after ${retryAfter}`, { retry_after: retryAfter });

/** Behaviour of a chat towards the bot, see `TelegramSimulator.setChat`. */
export type ChatBehaviour = 'ok' | 'blocked' | 'deactivated' | 'not-found' | 'cant-initiate';

/** The error Telegram gives when the bot addresses a chat in that state. */
export function chatError(behaviour: ChatBehaviour): TelegramApiError | undefined {
  switch (behaviour) {
    case 'blocked':
      return new TelegramApiError(403, 'Forbidden: bot was blocked by the user');
    case 'deactivated':
      return new TelegramApiError(403, 'Forbidden: user is deactivated');
    case 'not-found':
      return badRequest('chat not found');
    case 'cant-initiate':
      return new TelegramApiError(403, "Forbidden: bot can't initiate conversation with a user");
    case 'ok':
      return undefined;
  }
}

export const BAD_GATEWAY_HTML =
  '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n';
