/**
 * `npm run demo`: with `npm run dev` running in another terminal, a sandbox user
 * sends the bot a photo and subscribes to a demo source, an operator posts a
 * summary; prints each workflow's page in the Temporal UI and what the user got.
 */
import { DemoError, runDemo } from '../sandbox/dev/demo.js';
import { readStackState, StackNotRunningError } from '../sandbox/dev/stack-state.js';

try {
  await runDemo(readStackState());
  process.exit(0);
} catch (error) {
  if (error instanceof StackNotRunningError || error instanceof DemoError) console.error(`demo: ${error.message}`);
  else console.error(error);
  process.exit(1);
}
