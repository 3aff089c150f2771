/**
 * What a test's process writes to its standard output and error goes through
 * `console`, so the runner keeps it with the test that wrote it and, with
 * `silent: 'passed-only'` (vitest.config.ts), shows it only for a test that
 * failed. Temporal's default logger (replay workers, test environments) writes
 * to `process.stderr` itself; pino's lines come through `console` already
 * (src/observability/logger.ts).
 */
function throughConsole(stream: NodeJS.WriteStream, print: (text: string) => void): void {
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString();
    print(text.replace(/\n$/, ''));
    const done = rest.find((arg): arg is () => void => typeof arg === 'function');
    done?.();
    return true;
  }) as typeof stream.write;
}

throughConsole(process.stdout, (text) => console.log(text));
throughConsole(process.stderr, (text) => console.error(text));
