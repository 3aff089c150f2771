/** What the bot says to users. Pure: used by workflows. */

import type { Admission, Usage } from '../activities/limits.js';
import type { SourceListing, SubscribeResult, SubscriptionListing, UnsubscribeResult } from '../activities/subscriptions.js';
import type { InlineButton } from '../activities/telegram.js';
import { subscribeButtonData } from './ids.js';

export const HELP_TEXT = [
  'Send me a photo with a caption and I will turn it into a short video.',
  'The caption is the prompt: describe the motion, e.g. "the cat slowly turns its head and blinks".',
  '',
  'Commands:',
  '/status – your recent requests',
  '/cancel – stop the requests in progress',
  '/usage – your videos and quota today',
  '/sources – channels whose new videos I summarise',
  '/subscribe <name> – get the summaries of a source',
  '/unsubscribe <name> – stop them',
  '/mysubs – your subscriptions',
  '/help – this message',
].join('\n');

export const WELCOME_TEXT = `Welcome to Telewan! 🎬\n\n${HELP_TEXT}`;

export const NO_CAPTION_TEXT =
  'I need a caption to know what should happen in the video. Send the photo again with a caption describing the motion.';

export const UNKNOWN_TEXT = 'I did not understand that. Send a photo with a caption, or /help.';

export const PROGRESS = {
  received: '📥 Got your photo. Making your video… this usually takes a minute or two.',
  submitted: '⏳ Your video is queued for generation…',
  processing: '🎬 Generating your video… this usually takes a minute or two.',
  sending: '📤 Sending your video…',
  completed: '✅ Here is your video.',
} as const;

/**
 * Shown when Telegram took the video and did not say whether it was delivered:
 * sending it again could put it in the chat twice, so the link stands in.
 */
export function unconfirmedDeliveryText(videoUrl: string): string {
  return `✅ Your video is ready and was sent above. If it did not arrive, download it here: ${videoUrl}`;
}

/**
 * Shown when Telegram took a cached video (resent by file_id) and did not say
 * whether it was delivered: there is no link to give, but the same photo and
 * caption again resend it at once, for free.
 */
export const UNCONFIRMED_CACHED_DELIVERY_TEXT =
  '✅ Your video was sent above. If it did not arrive, send the same photo with the same caption again to get it.';

/** What a request waiting for a free WaveSpeed slot shows, at its place in line. */
export function queuedText(place: { position: number; paused: boolean }): string {
  if (place.paused) {
    return `⏸ Video generation is paused for a moment. You are queued, position ${place.position}; your video starts once it resumes.`;
  }
  return `🕒 Many videos are being made right now. You are queued, position ${place.position}; yours starts as soon as a slot frees up.`;
}

/** Why a request ended without a video; each has its own message. */
export type FailureReason =
  | 'rejected'
  | 'bad-image'
  | 'generation-failed'
  | 'nsfw'
  | 'deadline'
  | 'cancelled'
  | 'blocked'
  | 'queue-timeout'
  | 'busy'
  | 'line-timeout'
  | 'unconfirmed'
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
    case 'queue-timeout':
      return '⌛ Your request waited too long for one of your other videos to finish and was dropped. Please send it again.';
    case 'busy':
      return '🚦 I am very busy right now and cannot take more videos. Please try again in a few minutes.';
    case 'line-timeout':
      return '⌛ So many videos are being made that yours waited too long for its turn and was dropped. Please try again in a few minutes.';
    case 'unconfirmed':
      return '⌛ The video service did not confirm that it took your request, and no video came back in time. Please send your photo again.';
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
  queued: '⏸',
  refused: '✋',
};

export function statusText(lines: StatusLine[]): string {
  if (lines.length === 0) return 'You have no requests yet. Send a photo with a caption to start one.';
  const rows = lines.map((l) => {
    const prompt = l.prompt.length > 40 ? `${l.prompt.slice(0, 39)}…` : l.prompt;
    return `${STATUS_ICON[l.status] ?? '•'} ${l.requestedAt.slice(0, 16).replace('T', ' ')} UTC – ${l.status} – “${prompt}”`;
  });
  return `Your recent requests:\n${rows.join('\n')}`;
}

/** Telegram's limit is 4,096 characters; the list stops short of it. */
const MAX_LIST_CHARS = 3_500;

/** A slug as the user typed it, shortened for display (it may be anything). */
function shown(slug: string): string {
  return slug.length > 40 ? `${slug.slice(0, 39)}…` : slug;
}

export const SUBSCRIBE_USAGE_TEXT = 'Which source? Send /subscribe followed by its name; /sources lists them.';
export const UNSUBSCRIBE_USAGE_TEXT = 'Which source? Send /unsubscribe followed by its name. /mysubs lists your subscriptions.';
export const STALE_BUTTON_TEXT = 'This button no longer works.';

/** The /sources reply: every source with its state, and a button for each one not yet followed. */
export function sourcesReply(sources: SourceListing[]): { text: string; buttons: InlineButton[] } {
  if (sources.length === 0) return { text: 'There are no sources yet. Check again later.', buttons: [] };
  const lines: string[] = [];
  const buttons: InlineButton[] = [];
  let length = 0;
  for (const [i, source] of sources.entries()) {
    const line = `${source.subscribed ? '✅' : '•'} ${source.title} (${source.slug})${source.subscribed ? ' – subscribed' : ''}`;
    if (length + line.length > MAX_LIST_CHARS) {
      lines.push(`…and ${sources.length - i} more.`);
      break;
    }
    length += line.length + 1;
    lines.push(line);
    if (!source.subscribed) buttons.push({ text: `Subscribe to ${source.title}`, data: subscribeButtonData(source.slug) });
  }
  const hint = buttons.length > 0 ? 'Press a button, or send /subscribe <name>.' : 'You follow all of them. /unsubscribe <name> stops one.';
  return { text: `Sources:\n${lines.join('\n')}\n\n${hint}`, buttons };
}

export function subscribeText(result: SubscribeResult, slug: string): string {
  switch (result.outcome) {
    case 'subscribed':
      return `Subscribed to ${result.title}.`;
    case 'already-subscribed':
      return `You are already subscribed to ${result.title}.`;
    case 'unknown-source':
      return `There is no source called ${shown(slug)}. /sources lists them.`;
  }
}

/** The brief notice on a pressed "Subscribe" button. */
export function subscribeNotice(result: SubscribeResult): string {
  switch (result.outcome) {
    case 'subscribed':
      return 'Subscribed ✅';
    case 'already-subscribed':
      return 'Already subscribed';
    case 'unknown-source':
      return 'This source no longer exists.';
  }
}

export function unsubscribeText(result: UnsubscribeResult, slug: string): string {
  switch (result.outcome) {
    case 'unsubscribed':
      return `Unsubscribed from ${result.title}.`;
    case 'not-subscribed':
      return `You were not subscribed to ${result.title}.`;
    case 'unknown-source':
      return `There is no source called ${shown(slug)}. /sources lists them.`;
  }
}

export function subscriptionsText(subscriptions: SubscriptionListing[]): string {
  if (subscriptions.length === 0) return 'You have no subscriptions yet. /sources shows what you can subscribe to.';
  const lines: string[] = [];
  let length = 0;
  for (const [i, s] of subscriptions.entries()) {
    const line = `• ${s.title} (${s.slug})`;
    if (length + line.length > MAX_LIST_CHARS) {
      lines.push(`…and ${subscriptions.length - i} more.`);
      break;
    }
    length += line.length + 1;
    lines.push(line);
  }
  return `Your subscriptions:\n${lines.join('\n')}\n\n/unsubscribe <name> stops one.`;
}

function videos(n: number): string {
  return `${n} video${n === 1 ? '' : 's'}`;
}

/** Why a request was turned away by a per-user limit. */
export function refusalText(refusal: Extract<Admission, { decision: 'refused' }>): string {
  return refusal.reason === 'daily-quota'
    ? `📅 You've used your ${videos(refusal.quota)} for today; the quota resets at 00:00 UTC.`
    : `✋ You already have ${videos(refusal.limit)} in progress. Wait for one to finish (or /cancel it), then send your photo again.`;
}

/** Shown while a request waits for one of the user's slots. */
export function userQueuedText(limit: number): string {
  return `⏸ You already have ${videos(limit)} in progress. Yours is queued and starts as soon as one of them finishes (/cancel stops it).`;
}

/** The one reply to a user who sends updates faster than the gateway accepts them. */
export const SLOW_DOWN_TEXT = '🐢 Slow down, please: you are sending messages too fast. I will ignore them for a moment.';

/** The /usage reply. */
export function usageText(usage: Usage): string {
  const quota =
    usage.dailyQuota === null
      ? `${videos(usage.today)} (unlimited)`
      : `${usage.today} of ${usage.dailyQuota} (${Math.max(0, usage.dailyQuota - usage.today)} left)`;
  const underWay = `${usage.running}${usage.maxActive === null ? '' : ` of ${usage.maxActive}`}${usage.queued > 0 ? `, ${usage.queued} queued` : ''}`;
  return [
    'Your usage today (UTC):',
    `• Videos: ${quota}`,
    `• In progress: ${underWay}`,
    `• Cost: $${usage.spentTodayUsd.toFixed(2)}`,
    ...(usage.dailyQuota === null ? [] : ['The quota resets at 00:00 UTC.']),
  ].join('\n');
}
