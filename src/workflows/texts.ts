/** What the bot says to users. Pure: used by workflows. */

export const HELP_TEXT = [
  'Send me a photo with a caption and I will turn it into a short video.',
  'The caption is the prompt: describe the motion, e.g. "the cat slowly turns its head and blinks".',
  '',
  'Commands:',
  '/status – your recent requests',
  '/cancel – stop the requests in progress',
  '/help – this message',
].join('\n');

export const WELCOME_TEXT = `Welcome to Telewan! 🎬\n\n${HELP_TEXT}`;

export const NO_CAPTION_TEXT =
  'I need a caption to know what should happen in the video. Send the photo again with a caption describing the motion.';

export const UNKNOWN_TEXT = 'I did not understand that. Send a photo with a caption, or /help.';

export const PROGRESS = {
  received: '📥 Got your photo. Preparing it…',
  submitted: '⏳ Your video is queued for generation…',
  processing: '🎬 Generating your video… this usually takes a minute or two.',
  sending: '📤 Sending your video…',
  completed: '✅ Here is your video.',
} as const;

/** Why a request ended without a video; each has its own message. */
export type FailureReason =
  | 'rejected'
  | 'bad-image'
  | 'generation-failed'
  | 'nsfw'
  | 'deadline'
  | 'cancelled'
  | 'blocked'
  | 'internal';

export function failureText(reason: FailureReason, detail?: string): string {
  switch (reason) {
    case 'rejected':
      return `❌ The video service did not accept this request${detail ? `: ${detail}` : ''}. Try another photo or caption.`;
    case 'bad-image':
      return `❌ I could not use this photo${detail ? ` (${detail})` : ''}. Try another one.`;
    case 'generation-failed':
      return `❌ The video could not be generated${detail ? `: ${detail}` : ''}. You can try again.`;
    case 'nsfw':
      return '❌ The generated video was flagged as unsafe content and cannot be sent.';
    case 'deadline':
      return '⌛ Generation took too long and was abandoned. Please try again later.';
    case 'cancelled':
      return '🛑 Cancelled.';
    case 'blocked':
      return '';
    case 'internal':
      return '❌ Something went wrong on our side. Please try again later.';
  }
}

export interface StatusLine {
  prompt: string;
  status: string;
  requestedAt: string;
  error: string | null;
}

const STATUS_ICON: Record<string, string> = {
  requested: '📥',
  preparing: '📥',
  submitted: '⏳',
  processing: '🎬',
  completed: '✅',
  failed: '❌',
  cancelled: '🛑',
};

export function statusText(lines: StatusLine[]): string {
  if (lines.length === 0) return 'You have no requests yet. Send a photo with a caption to start one.';
  const rows = lines.map((l) => {
    const prompt = l.prompt.length > 40 ? `${l.prompt.slice(0, 39)}…` : l.prompt;
    return `${STATUS_ICON[l.status] ?? '•'} ${l.requestedAt.slice(0, 16).replace('T', ' ')} UTC – ${l.status} – “${prompt}”`;
  });
  return `Your recent requests:\n${rows.join('\n')}`;
}
