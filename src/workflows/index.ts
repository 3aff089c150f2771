/** The workflow bundle's entry point: every workflow Telewan registers. */
export { imageToVideo } from './video.js';
export { botCommand } from './command.js';
export { distributeSummary } from './distribution.js';
export { wavespeedAdmission } from './admission.js';
