/** The workflow bundle's entry point: every workflow Telewan registers. */
export { imageToVideo } from './video/workflow.js';
export { botCommand } from './command/workflow.js';
export { distributeSummary } from './distribution/workflow.js';
export { wavespeedAdmission } from './admission/workflow.js';
