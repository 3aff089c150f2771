/**
 * Error codes (Node's, undici's and node-fetch's) that mean a request never
 * reached the peer: no connection was made, so nothing was sent.
 */
const NOT_CONNECTED = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/**
 * True only when a failed request surely never reached the peer (the
 * connection could not be made). A timeout, a reset or a closed socket may
 * come after the peer read the whole request, so they are not.
 */
export function surelyNotSent(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NOT_CONNECTED.has(code)) return true;
    // node-fetch keeps the system error's code in `errno` as well; grammY wraps it in `error`.
    e = (e as { cause?: unknown; error?: unknown }).cause ?? (e as { error?: unknown }).error;
  }
  return false;
}
