/** Runs a TemporalFrontendStandIn until its parent disconnects; sends `{ address }` once listening. */
import { TemporalFrontendStandIn } from './temporal-frontend-stand-in.js';

const standIn = new TemporalFrontendStandIn(Number(process.argv[2] ?? 5));
const address = await standIn.start();
process.once('disconnect', () => void standIn.stop().finally(() => process.exit(0)));
process.send!({ address });
