import { ACCEPTED_IMAGE_NAMES, describeImageMimeType } from '../domain/images.js';
import { STATUS_ICON, fitLines, historyReply, settingsReply, shortPrompt, shown, sourcesReply, type Catalog } from './catalog.js';

const HELP = [
  'Send me a photo with a caption and I will turn it into a short video.',
  'The caption is the prompt: describe the motion, e.g. "the cat slowly turns its head and blinks".',
  '',
  'Commands:',
  '/settings – model and length of your videos, with prices',
  '/status – your recent requests',
  '/history – your last videos, to get one again',
  '/cancel – stop the requests in progress',
  '/usage – your videos and quota today',
  '/sources – channels whose new videos I summarise',
  '/subscribe <name> – get the summaries of a source',
  '/unsubscribe <name> – stop them',
  '/mysubs – your subscriptions',
  '/language – English or Spanish',
  '/help – this message',
].join('\n');

function videos(n: number): string {
  return `${n} video${n === 1 ? '' : 's'}`;
}

/** English, the default. */
export const en: Catalog = {
  name: 'English',
  help: HELP,
  welcome: `Welcome to Telewan! 🎬\n\n${HELP}`,
  noCaption: 'I need a caption to know what should happen in the video. Send the photo again with a caption describing the motion.',
  album:
    '📸 I make one video per photo: from an album I take the photo with the caption. To animate the others, send each one on its own with a caption.',
  unsupportedMedia(kind) {
    const what = {
      video: 'a video',
      animation: 'a GIF',
      sticker: 'a sticker',
      voice: 'a voice message',
      audio: 'an audio file',
      video_note: 'a video message',
      document: 'a file that is not a picture',
      other: 'something I cannot use',
    }[kind];
    return `🙂 That is ${what}. I turn photos into videos: send a photo with a caption describing the motion.`;
  },
  edited: '✏️ Editing the caption does not change a video already started. Send the photo again with the new caption for a new video.',
  unknown: 'I did not understand that. Send a photo with a caption, or /help.',
  progress: {
    received: '📥 Got your photo. Making your video… this usually takes a minute or two.',
    submitted: '⏳ Your video is queued for generation…',
    processing: '🎬 Generating your video… this usually takes a minute or two.',
    sending: '📤 Sending your video…',
    completed: '✅ Here is your video.',
  },
  unconfirmedDelivery: (videoUrl) => `✅ Your video is ready and was sent above. If it did not arrive, download it here: ${videoUrl}`,
  unconfirmedCachedDelivery: '✅ Your video was sent above. If it did not arrive, send the same photo with the same caption again to get it.',
  queued: (place) =>
    place.paused
      ? `⏸ Video generation is paused for a moment. You are queued, position ${place.position}; your video starts once it resumes.`
      : `🕒 Many videos are being made right now. You are queued, position ${place.position}; yours starts as soon as a slot frees up.`,
  failure(reason, detail) {
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
  },
  status(lines) {
    if (lines.length === 0) return 'You have no requests yet. Send a photo with a caption to start one.';
    const rows = lines.map(
      (l) => `${STATUS_ICON[l.status] ?? '•'} ${l.requestedAt.slice(0, 16).replace('T', ' ')} UTC – ${l.status} – “${shortPrompt(l.prompt)}”`,
    );
    return `Your recent requests:\n${rows.join('\n')}`;
  },
  cancelled: (count) =>
    count === 0 ? 'Nothing to cancel: you have no requests in progress.' : count === 1 ? 'Cancelling your request in progress…' : `Cancelling your ${count} requests in progress…`,
  history: (videos) =>
    historyReply(videos, {
      none: 'You have no videos yet. Send a photo with a caption to make one.',
      header: 'Your last videos:',
      pressToResend: 'Press a number to get that video again (free).',
    }),
  resending: 'Sending it again 🔁',
  settings: (view) =>
    settingsReply(view, {
      header: '⚙️ Your next videos:',
      model: 'Model',
      length: 'Length',
      price: 'Price',
      seconds: (n) => `${n} s`,
      usd: (amount) => (amount === undefined ? 'price unknown' : `$${amount.toFixed(2)}`),
      chooseBelow: 'Choose a model or a length below.',
    }),
  settingsSaved: 'Saved ✅',
  videoTooLarge: (videoUrl) => `Your video is too large for Telegram; download it here: ${videoUrl}`,
  againButton: '🔁 Again',
  newPromptButton: '✏️ New prompt',
  makingAgain: 'Making another one 🔁',
  newPromptAsk: '✏️ Send me the new caption for this photo: your next message is the prompt of a new video.',
  repeatGone: 'I no longer have this photo. Send it again with a caption.',
  resendGone: 'This video is no longer available. Send the photo again to make a new one.',
  subscribeUsage: 'Which source? Send /subscribe followed by its name; /sources lists them.',
  unsubscribeUsage: 'Which source? Send /unsubscribe followed by its name. /mysubs lists your subscriptions.',
  staleButton: 'This button no longer works.',
  sources: (sources) =>
    sourcesReply(sources, {
      none: 'There are no sources yet. Check again later.',
      header: 'Sources:',
      subscribed: 'subscribed',
      more: (rest) => `…and ${rest} more.`,
      button: (title) => `Subscribe to ${title}`,
      pressOrType: 'Press a button, or send /subscribe <name>.',
      followingAll: 'You follow all of them. /unsubscribe <name> stops one.',
    }),
  subscribe(result, slug) {
    switch (result.outcome) {
      case 'subscribed':
        return `Subscribed to ${result.title}.`;
      case 'already-subscribed':
        return `You are already subscribed to ${result.title}.`;
      case 'unknown-source':
        return `There is no source called ${shown(slug)}. /sources lists them.`;
    }
  },
  subscribeNotice(result) {
    switch (result.outcome) {
      case 'subscribed':
        return 'Subscribed ✅';
      case 'already-subscribed':
        return 'Already subscribed';
      case 'unknown-source':
        return 'This source no longer exists.';
    }
  },
  unsubscribe(result, slug) {
    switch (result.outcome) {
      case 'unsubscribed':
        return `Unsubscribed from ${result.title}.`;
      case 'not-subscribed':
        return `You were not subscribed to ${result.title}.`;
      case 'unknown-source':
        return `There is no source called ${shown(slug)}. /sources lists them.`;
    }
  },
  subscriptions(subscriptions) {
    if (subscriptions.length === 0) return 'You have no subscriptions yet. /sources shows what you can subscribe to.';
    const { lines } = fitLines(
      subscriptions.map((s) => `• ${s.title} (${s.slug})`),
      (rest) => `…and ${rest} more.`,
    );
    return `Your subscriptions:\n${lines.join('\n')}\n\n/unsubscribe <name> stops one.`;
  },
  refusal: (refusal) =>
    refusal.reason === 'daily-quota'
      ? `📅 You've used your ${videos(refusal.quota)} for today; the quota resets at 00:00 UTC.`
      : `✋ You already have ${videos(refusal.limit)} in progress. Wait for one to finish (or /cancel it), then send your photo again.`,
  userQueued: (limit) => `⏸ You already have ${videos(limit)} in progress. Yours is queued and starts as soon as one of them finishes (/cancel stops it).`,
  slowDown: '🐢 Slow down, please: you are sending messages too fast. I will ignore them for a moment.',
  usage(usage) {
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
  },
  languagePrompt: 'Which language should I speak?',
  languageChosen: '✅ I will speak English from now on.',
  unsupportedImage: (mimeType) =>
    `❌ I can only turn ${ACCEPTED_IMAGE_NAMES} pictures into videos, and this file is ${describeImageMimeType(mimeType)}. Send it as a photo, or as a ${ACCEPTED_IMAGE_NAMES} file.`,
  imageTooLarge: (megabytes) => `❌ This file is larger than the ${megabytes} MB I can download. Send the picture as a photo, or a smaller file.`,
  commands: {
    start: 'Start using Telewan',
    help: 'How to make a video',
    settings: 'Model and length of your videos',
    status: 'Your recent requests',
    history: 'Your last videos, to get one again',
    cancel: 'Stop the requests in progress',
    usage: 'Your videos and quota today',
    language: 'English or Spanish',
    sources: 'Channels whose new videos are summarised',
    subscribe: 'Get the summaries of a source',
    unsubscribe: 'Stop the summaries of a source',
    mysubs: 'Your subscriptions',
  },
};
