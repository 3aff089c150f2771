import type { Admission, Usage } from '../activities/limits.js';
import type { SourceListing, SubscribeResult, SubscriptionListing, UnsubscribeResult } from '../activities/subscriptions.js';
import type { InlineButton } from '../activities/telegram.js';
import type { FailureReason } from '../domain/failure-reason.js';
import { AGAIN_BUTTON_PREFIX, NEW_PROMPT_BUTTON_PREFIX, resendButtonData, settingsButtonData, subscribeButtonData } from '../workflows/ids.js';
import type { SettingsView } from '../activities/settings.js';

/**
 * The languages Telewan speaks. A user's is what they chose with /language, else
 * Telegram's `language_code` (its first part), else English.
 */
export const LANGUAGES = ['en', 'es'] as const;
export type Language = (typeof LANGUAGES)[number];

export function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && (LANGUAGES as readonly string[]).includes(value);
}

/** `es-MX` → `es`; a language Telewan does not speak → English. */
export function languageOf(code: string | null | undefined): Language {
  const base = code?.toLowerCase().split(/[-_]/)[0];
  return isLanguage(base) ? base : 'en';
}

/** What else people send, each with its own hint (`other`: any message the bot cannot use). */
export const MEDIA_KINDS = ['video', 'animation', 'sticker', 'voice', 'audio', 'video_note', 'document', 'other'] as const;
export type MediaKind = (typeof MEDIA_KINDS)[number];

export function isMediaKind(value: unknown): value is MediaKind {
  return typeof value === 'string' && (MEDIA_KINDS as readonly string[]).includes(value);
}

/** A line of the /status reply. */
export interface StatusLine {
  prompt: string;
  status: string;
  requestedAt: string;
  error: string | null;
}

/** What a request waiting for a free WaveSpeed slot shows. */
export interface QueuePlaceText {
  position: number;
  paused: boolean;
}

/**
 * Every text a user sees, in one language. Each catalog is a value of this type,
 * so a missing text fails the type check (and test/i18n/catalog.test.ts, at run time).
 * Pure: workflows render them.
 */
export interface Catalog {
  /** The language's own name, on the /language buttons. */
  name: string;
  help: string;
  welcome: string;
  noCaption: string;
  /** Once per album (one update per photo): one video per photo, from the captioned one. */
  album: string;
  /** A video, a sticker, a voice note…: what it is, and what to send instead. */
  unsupportedMedia(kind: MediaKind): string;
  /** An edited caption changes nothing already started. */
  edited: string;
  unknown: string;
  progress: { received: string; submitted: string; processing: string; sending: string; completed: string };
  /** Telegram took the video and did not say whether it was delivered: the link stands in. */
  unconfirmedDelivery(videoUrl: string): string;
  /** The same for a cached video resent by file_id: no link, but the same request resends it for free. */
  unconfirmedCachedDelivery: string;
  queued(place: QueuePlaceText): string;
  failure(reason: FailureReason, detail?: string): string;
  status(lines: StatusLine[]): string;
  cancelled(count: number): string;
  /** /settings: the model and length of the next videos, with their prices, and a button for each choice. */
  settings(view: SettingsView): { text: string; buttons: InlineButton[] };
  /** A video over Telegram's 50 MB: its link instead. */
  videoTooLarge(videoUrl: string): string;
  /** The buttons under a delivered video. */
  againButton: string;
  newPromptButton: string;
  /** The notice on 🔁 Again: another video of the same photo and prompt is on its way. */
  makingAgain: string;
  /** ✏️ New prompt: asks for the caption. */
  newPromptAsk: string;
  /** A button under a video whose photo is no longer known (or not this chat's). */
  repeatGone: string;
  /** The notice on a pressed /settings button. */
  settingsSaved: string;
  /** /history: the chat's last videos with their prompts, a button each that resends it. */
  history(videos: HistoryVideo[]): { text: string; buttons: InlineButton[] };
  /** The notice on a pressed /history button while the video goes out again. */
  resending: string;
  /** A /history button whose video Telegram no longer has (or is not this chat's). */
  resendGone: string;
  subscribeUsage: string;
  unsubscribeUsage: string;
  staleButton: string;
  sources(sources: SourceListing[]): { text: string; buttons: InlineButton[] };
  subscribe(result: SubscribeResult, slug: string): string;
  subscribeNotice(result: SubscribeResult): string;
  unsubscribe(result: UnsubscribeResult, slug: string): string;
  subscriptions(subscriptions: SubscriptionListing[]): string;
  refusal(refusal: Extract<Admission, { decision: 'refused' }>): string;
  userQueued(limit: number): string;
  slowDown: string;
  usage(usage: Usage): string;
  /** /language: the question above the buttons, and the answer once chosen (in the chosen language). */
  languagePrompt: string;
  languageChosen: string;
  /** A document declared as an image of a format Telewan does not take (its MIME type). */
  unsupportedImage(mimeType: string): string;
  imageTooLarge(megabytes: number): string;
  /** Descriptions for `setMyCommands`, by command. */
  commands: Record<BotCommandDescribed, string>;
}

/** The commands listed in Telegram's menu (`setMyCommands`), in this order. */
export const MENU_COMMANDS = ['start', 'help', 'settings', 'status', 'history', 'cancel', 'usage', 'language', 'sources', 'subscribe', 'unsubscribe', 'mysubs'] as const;
export type BotCommandDescribed = (typeof MENU_COMMANDS)[number];

/** Telegram's limit is 4,096 characters; lists stop short of it. */
export const MAX_LIST_CHARS = 3_500;

/** A slug as the user typed it, shortened for display (it may be anything). */
export function shown(slug: string): string {
  return slug.length > 40 ? `${slug.slice(0, 39)}…` : slug;
}

/** The first lines that fit in {@link MAX_LIST_CHARS} (`fitted` of them), and `more(n)` for the rest. */
export function fitLines(lines: string[], more: (rest: number) => string): { lines: string[]; fitted: number } {
  const out: string[] = [];
  let length = 0;
  for (const [i, line] of lines.entries()) {
    if (length + line.length > MAX_LIST_CHARS) {
      out.push(more(lines.length - i));
      return { lines: out, fitted: i };
    }
    length += line.length + 1;
    out.push(line);
  }
  return { lines: out, fitted: lines.length };
}

/** The words of a /settings reply in one language; {@link settingsReply} lays them out. */
export interface SettingsWords {
  header: string;
  model: string;
  length: string;
  price: string;
  seconds(n: number): string;
  usd(amount: number | undefined): string;
  chooseBelow: string;
}

/**
 * The /settings message: the settings of the next videos and their price, a
 * button per model (priced at the current length where it takes it) and one per
 * length of the current model; the current choices ticked.
 */
export function settingsReply(view: SettingsView, w: SettingsWords): { text: string; buttons: InlineButton[] } {
  const { current, offers } = view;
  const offer = offers.find((o) => o.model === current.model);
  const price = offer?.lengths.find((l) => l.seconds === current.durationSeconds)?.usd;
  const tick = (on: boolean) => (on ? '✅ ' : '');
  const models = offers.map((o) => {
    const length = o.lengths.find((l) => l.seconds === current.durationSeconds) ?? o.lengths[0];
    return { text: `${tick(o.model === current.model)}${o.label} · ${w.usd(length?.usd)}`, data: settingsButtonData({ model: o.model }) };
  });
  const lengths = (offer?.lengths ?? []).map((l) => ({
    text: `${tick(l.seconds === current.durationSeconds)}${w.seconds(l.seconds)} · ${w.usd(l.usd)}`,
    data: settingsButtonData({ durationSeconds: l.seconds }),
  }));
  const text = [w.header, `• ${w.model}: ${offer?.label ?? current.model}`, `• ${w.length}: ${w.seconds(current.durationSeconds)}`, `• ${w.price}: ${w.usd(price)}`, '', w.chooseBelow].join('\n');
  return { text, buttons: [...models, ...lengths] };
}

/** A line of /history: a video the chat received. */
export interface HistoryVideo {
  generationId: string;
  prompt: string;
  completedAt: string;
}

/** The buttons under a delivered video: 🔁 Again (same photo and prompt, a new seed) and ✏️ New prompt (same photo). */
export function repeatButtons(t: Catalog, generationId: string): InlineButton[] {
  return [
    { text: t.againButton, data: `${AGAIN_BUTTON_PREFIX}${generationId}` },
    { text: t.newPromptButton, data: `${NEW_PROMPT_BUTTON_PREFIX}${generationId}` },
  ];
}

/** The words of a /history reply in one language; {@link historyReply} lays them out. */
export interface HistoryWords {
  none: string;
  header: string;
  pressToResend: string;
}

/** The /history reply: a numbered line per video (its date and prompt) and a button per line resending it. */
export function historyReply(videos: HistoryVideo[], w: HistoryWords): { text: string; buttons: InlineButton[] } {
  if (videos.length === 0) return { text: w.none, buttons: [] };
  const { lines, fitted } = fitLines(
    videos.map((v, i) => `${i + 1}. ${v.completedAt.slice(0, 16).replace('T', ' ')} UTC – ${shortPrompt(v.prompt)}`),
    () => '…',
  );
  const buttons = videos.slice(0, fitted).map((v, i) => ({ text: `🔁 ${i + 1}`, data: resendButtonData(v.generationId) }));
  return { text: `${w.header}\n${lines.join('\n')}\n\n${w.pressToResend}`, buttons };
}

/** The words of a /sources reply in one language; {@link sourcesReply} lays them out. */
export interface SourcesWords {
  none: string;
  header: string;
  subscribed: string;
  more(rest: number): string;
  button(title: string): string;
  pressOrType: string;
  followingAll: string;
}

/** The /sources reply: every source with its state (as many as fit), and a button for each listed one not yet followed. */
export function sourcesReply(sources: SourceListing[], w: SourcesWords): { text: string; buttons: InlineButton[] } {
  if (sources.length === 0) return { text: w.none, buttons: [] };
  const { lines, fitted } = fitLines(
    sources.map((s) => `${s.subscribed ? '✅' : '•'} ${s.title} (${s.slug})${s.subscribed ? ` – ${w.subscribed}` : ''}`),
    w.more,
  );
  const buttons = sources
    .slice(0, fitted)
    .filter((s) => !s.subscribed)
    .map((s) => ({ text: w.button(s.title), data: subscribeButtonData(s.slug) }));
  return { text: `${w.header}\n${lines.join('\n')}\n\n${buttons.length > 0 ? w.pressOrType : w.followingAll}`, buttons };
}

export const STATUS_ICON: Record<string, string> = {
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

/** A prompt shortened for a list line. */
export function shortPrompt(prompt: string): string {
  return prompt.length > 40 ? `${prompt.slice(0, 39)}…` : prompt;
}
