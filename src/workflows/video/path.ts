import { patched } from '@temporalio/workflow';

/**
 * One patch for the whole path of a video request started on this code.
 *
 * Before it, every change to `imageToVideo` was its own `patched()` id, and a new
 * request recorded each of them: 13 markers, each with the search-attribute
 * upsert (`TemporalChangeVersion`) the SDK adds to a patch, so 26 of its ~101
 * history events and 13 visibility writes on the Temporal server, per request
 * (docs/PERFORMANCE.md §5, run M). A request started now records this one marker
 * and takes every newer branch without asking; a history from before it replays
 * as it ran, each old id deciding its own branch (see {@link changed}).
 *
 * A later change to the video workflow adds its own `patched()` id as before;
 * when the ids pile up again, they can be folded into the next such path.
 */
export const VIDEO_PATH = 'video-path-2026-12';

/** Called first thing in `imageToVideo`: a new request's one patch marker is its first command. */
export function onVideoPath(): boolean {
  return patched(VIDEO_PATH);
}

/**
 * Whether this request runs a change named `id`: true for every request started
 * on {@link VIDEO_PATH}; for one started before, `patched(id)` as it always was.
 */
export function changed(id: string): boolean {
  return patched(VIDEO_PATH) || patched(id);
}
