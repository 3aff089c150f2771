import {
  ActivityFailure,
  ParentClosePolicy,
  getExternalWorkflowHandle,
  log,
  proxyActivities,
  proxyLocalActivities,
  setWorkflowOptions,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/common';
import { TASK_QUEUES, WORKFLOW_TYPE } from '../../constants.js';
import { TelewanChatId, TelewanKind } from '../../temporal/search-attributes.js';
import type { VideoRequest } from '../video/messages.js';
import type { Activities } from '../../activities/index.js';
import { activityFailureType } from '../failures.js';
import { MESSAGING, RECORDING_LOCAL, SENDING_VIDEO } from '../activity-options.js';
import type { InlineButton } from '../../activities/telegram.js';
import type { TelegramUserInput } from '../../db/users.js';
import { ErrorType } from '../../errors.js';
import { CATALOGS, LANGUAGES, isLanguage, isMediaKind, languageOf, repeatButtons, texts, type Catalog } from '../../i18n/index.js';
import { againWorkflowId, languageButtonData, videoWorkflowId } from '../ids.js';
import { cancelVideoSignal } from '../video/messages.js';

/** Bot commands handled by {@link botCommand}; `no-caption` and `unknown` are hints, not commands. */
export type BotCommandName =
  | 'start'
  | 'help'
  | 'settings'
  | 'status'
  | 'history'
  | 'resend'
  | 'again'
  | 'new-prompt'
  | 'cancel'
  | 'usage'
  | 'sources'
  | 'subscribe'
  | 'unsubscribe'
  | 'mysubs'
  | 'language'
  | 'no-caption'
  | 'album'
  | 'unsupported-media'
  | 'edited'
  | 'unknown';

export interface BotCommandInput {
  command: BotCommandName;
  user: TelegramUserInput;
  /** The message that carried the command; for a button press, the bot's message that carried the button. */
  messageId: number;
  /** What followed the command (`/subscribe tech-news` → `tech-news`); for a button, what its data names. */
  args?: string;
  /** Set for a pressed inline button: the press is answered with `answerCallbackQuery`. */
  callbackQueryId?: string;
  /** Names a hint answered once for several updates (the photos of one album); it makes the workflow id. */
  once?: string;
}

/** What the workflow answers: a message (with buttons), and for a button press a brief notice. */
interface Reply {
  text?: string;
  buttons?: InlineButton[];
  notice?: string;
}

// The command recorded (user.command_executed, last activity) and the user's /language choice read, in the workflow task that starts it.
const { recordCommand } = proxyLocalActivities<Activities>(RECORDING_LOCAL);

const { findRequestToRepeat, awaitNewPrompt, takeAwaitedPrompt, getVideoSettings, chooseVideoSettings, editMessage, listDeliveredVideos, findDeliveredVideo, chooseLanguage, registerUser, listRecentGenerations, findActiveGenerations, markUserBlocked, listSources, subscribe, unsubscribe, listSubscriptions, getUsage } =
  proxyActivities<Activities>({
    startToCloseTimeout: '10s',
    scheduleToCloseTimeout: '5m',
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
  });

const { sendMessage } = proxyActivities<Activities>(MESSAGING);

// As the result cache resends: one call, Telegram holds the video.
const { sendCachedVideo } = proxyActivities<Activities>(SENDING_VIDEO);

// Telegram keeps a button spinning only briefly: past a minute an answer is pointless.
const { answerCallbackQuery } = proxyActivities<Activities>({
  startToCloseTimeout: '10s',
  scheduleToCloseTimeout: '1m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s' },
});


/**
 * Answers one bot command or button press. Started by the gateway with an id
 * taken from the message (or the callback query), so Telegram's redelivery
 * answers once.
 */
export async function botCommand(input: BotCommandInput): Promise<void> {
  const chatId = input.user.chatId;
  const { language } = await recordCommand({
    user: input.user,
    command: input.command,
    button: input.callbackQueryId !== undefined,
    requestId: workflowInfo().workflowId,
  });
  const t = texts(language ?? languageOf(input.user.languageCode));
  const reply = await answer(input, t);
  if (input.callbackQueryId !== undefined) await acknowledge(input.callbackQueryId, reply.notice);
  if (reply.text === undefined) return;
  try {
    await sendMessage.executeWithOptions({ summary: `reply to /${input.command} in chat ${chatId}` }, [
      { chatId, text: reply.text, replyToMessageId: input.messageId, ...(reply.buttons?.length ? { buttons: reply.buttons } : {}) },
    ]);
  } catch (err) {
    const type = activityFailureType(err);
    // A reply Telegram may have delivered is not sent again: the command ends answered.
    if (type === ErrorType.TelegramAmbiguousSend) {
      log.warn('Telegram lost the answer to the reply; not sending it again', { command: input.command, chatId });
      return;
    }
    if (type !== ErrorType.BotBlocked) throw err;
    await markUserBlocked({ userId: input.user.userId, reason: 'telegram-403' });
  }
}

async function answer(input: BotCommandInput, t: Catalog): Promise<Reply> {
  const { command, user } = input;
  switch (command) {
    case 'start':
      await registerUser(user);
      return { text: t.welcome };
    case 'help':
      return { text: t.help };
    case 'status':
      return { text: t.status(await listRecentGenerations({ chatId: user.chatId, limit: 5 })) };
    case 'settings':
      return settings(input, t);
    case 'history':
      return t.history(await listDeliveredVideos({ chatId: user.chatId, limit: HISTORY_LENGTH }));
    case 'resend':
      return resend(input, t);
    case 'cancel':
      return { text: t.cancelled(await cancelActive(user.chatId)) };
    case 'usage':
      return { text: t.usage(await getUsage({ userId: user.userId, chatId: user.chatId })) };
    case 'sources':
      return t.sources(await listSources({ userId: user.userId }));
    case 'subscribe':
      return subscribeTo(input, t);
    case 'unsubscribe':
      return unsubscribeFrom(input, t);
    case 'mysubs':
      return { text: t.subscriptions(await listSubscriptions({ userId: user.userId })) };
    case 'language':
      return chooseLanguageFor(input, t);
    case 'no-caption':
      return { text: t.noCaption };
    case 'album':
      return { text: t.album };
    case 'unsupported-media':
      return { text: t.unsupportedMedia(isMediaKind(input.args) ? input.args : 'other') };
    case 'edited':
      return { text: t.edited };
    case 'again':
      return repeatVideo(input, t);
    case 'new-prompt':
      return askNewPrompt(input, t);
    case 'unknown':
      if (input.callbackQueryId !== undefined) return { notice: t.staleButton };
      // After ✏️ New prompt, the user's next text is the caption of a new video of that photo.
      if (input.args !== undefined && !input.args.startsWith('/') && (await videoWithNewPrompt(input))) return {};
      return { text: t.unknown };
  }
}

/**
 * `/settings` shows the model and length of the user's next videos with a button
 * for each choice; a press stores it and edits that message in place (no new
 * message), its notice saying it is saved.
 */
async function settings(input: BotCommandInput, t: Catalog): Promise<Reply> {
  const choice = parseSettingsChoice(input.callbackQueryId === undefined ? undefined : input.args);
  if (!choice) return t.settings(await getVideoSettings({ userId: input.user.userId }));
  const view = t.settings(await chooseVideoSettings({ user: input.user, ...choice, requestId: workflowInfo().workflowId }));
  await editMessage({ chatId: input.user.chatId, messageId: input.messageId, ...view });
  return { notice: t.settingsSaved };
}

/** `m:<model>` or `d:<seconds>` from a /settings button; undefined for anything else. */
function parseSettingsChoice(args: string | undefined): { model: string } | { durationSeconds: number } | undefined {
  if (args?.startsWith('m:')) return { model: args.slice(2) };
  if (args !== undefined && /^d:\d{1,3}$/.test(args)) return { durationSeconds: Number(args.slice(2)) };
  return undefined;
}

/**
 * 🔁 Again: another video of the same photo and prompt, with a new seed (so the
 * result cache sees another request). A durable start named after the press, so a
 * redelivered press starts nothing more; the per-user limits and the quota apply
 * in the new video as in any.
 */
async function repeatVideo(input: BotCommandInput, t: Catalog): Promise<Reply> {
  const chatId = input.user.chatId;
  const found = input.args && input.callbackQueryId !== undefined ? await findRequestToRepeat({ chatId, generationId: input.args }) : undefined;
  if (!found || input.callbackQueryId === undefined) return { text: t.repeatGone, notice: t.repeatGone };
  // Deterministic in a workflow (the sandbox seeds Math.random per run): a replay draws the same seed.
  const seed = Math.floor(Math.random() * 2_147_483_647);
  await startVideo(againWorkflowId(chatId, input.callbackQueryId), { user: input.user, ...found, seed });
  return { notice: t.makingAgain };
}

/** ✏️ New prompt: the user's next text becomes the caption of a new video of this photo. */
async function askNewPrompt(input: BotCommandInput, t: Catalog): Promise<Reply> {
  const found = input.args ? await findRequestToRepeat({ chatId: input.user.chatId, generationId: input.args }) : undefined;
  if (!found) return { text: t.repeatGone, notice: t.repeatGone };
  await awaitNewPrompt({ user: input.user, generationId: input.args! });
  return { text: t.newPromptAsk };
}

/** The text as the caption of the photo ✏️ New prompt was pressed under; false when none was. */
async function videoWithNewPrompt(input: BotCommandInput): Promise<boolean> {
  const chatId = input.user.chatId;
  const generationId = await takeAwaitedPrompt({ userId: input.user.userId, messageId: input.messageId });
  const found = generationId ? await findRequestToRepeat({ chatId, generationId }) : undefined;
  if (!found) return false;
  // Named after the text, as a photo's video is after its message: a redelivered text starts nothing more.
  await startVideo(videoWorkflowId(chatId, input.messageId), { user: input.user, ...found, prompt: input.args!, messageId: input.messageId });
  return true;
}

/** Starts a video workflow that outlives this command (abandoned, not cancelled, when the command ends); once per id. */
async function startVideo(workflowId: string, req: VideoRequest): Promise<void> {
  try {
    await startChild(WORKFLOW_TYPE.video, {
      workflowId,
      args: [req],
      taskQueue: TASK_QUEUES.media,
      parentClosePolicy: ParentClosePolicy.ABANDON,
      // Never a second video under the same id, even after the first ended.
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      typedSearchAttributes: [
        { key: TelewanKind, value: 'video' },
        { key: TelewanChatId, value: req.user.chatId },
      ],
      staticSummary: `Video for chat ${req.user.chatId}: "${req.prompt.replace(/\s+/g, ' ').trim().slice(0, 60)}"`,
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}

/** Videos /history lists. */
const HISTORY_LENGTH = 5;

/**
 * A /history button: the video goes out again by its file_id (no generation, no
 * cost), only if it is this chat's. Once Telegram refuses the file_id, or it was
 * never this chat's, the user hears it is gone. Its answer is the video itself
 * and the notice on the button.
 */
async function resend(input: BotCommandInput, t: Catalog): Promise<Reply> {
  const chatId = input.user.chatId;
  const video = input.args ? await findDeliveredVideo({ chatId, generationId: input.args }) : undefined;
  if (!video) return { text: t.resendGone, notice: t.resendGone };
  try {
    await sendCachedVideo.executeWithOptions({ summary: `resend a video from /history to chat ${chatId}` }, [
      { chatId, fileId: video.telegramFileId, caption: video.prompt.slice(0, 1000), buttons: repeatButtons(t, video.generationId) },
    ]);
  } catch (err) {
    const type = activityFailureType(err);
    // Telegram may have delivered it: not sent again.
    if (type === ErrorType.TelegramAmbiguousSend) return { notice: t.resending };
    // The file_id is refused (the video is gone from Telegram).
    if (type === ErrorType.TelegramRequest) return { text: t.resendGone, notice: t.resendGone };
    throw err;
  }
  return { notice: t.resending };
}

/**
 * `/language` asks with a button per language; `/language es` or a button
 * press stores the choice and answers in the chosen language.
 */
async function chooseLanguageFor(input: BotCommandInput, t: Catalog): Promise<Reply> {
  const wanted = input.args?.trim().toLowerCase();
  if (!isLanguage(wanted)) {
    return { text: t.languagePrompt, buttons: LANGUAGES.map((language) => ({ text: CATALOGS[language].name, data: languageButtonData(language) })) };
  }
  await chooseLanguage({ user: input.user, language: wanted, requestId: workflowInfo().workflowId });
  const chosen = texts(wanted).languageChosen;
  return { text: chosen, notice: chosen };
}

/** The first word of the arguments, as slugs are written (lower case); undefined when there is none. */
function slugOf(args: string | undefined): string | undefined {
  const word = args?.trim().split(/\s+/)[0]?.toLowerCase();
  return word ? word : undefined;
}

async function subscribeTo(input: BotCommandInput, t: Catalog): Promise<Reply> {
  const slug = slugOf(input.args);
  if (slug === undefined) return { text: t.subscribeUsage };
  const result = await subscribe({ user: input.user, slug, requestId: workflowInfo().workflowId });
  return { text: t.subscribe(result, slug), notice: t.subscribeNotice(result) };
}

async function unsubscribeFrom(input: BotCommandInput, t: Catalog): Promise<Reply> {
  const slug = slugOf(input.args);
  if (slug === undefined) return { text: t.unsubscribeUsage };
  const result = await unsubscribe({ userId: input.user.userId, slug, requestId: workflowInfo().workflowId });
  return { text: t.unsubscribe(result, slug) };
}

/** Stops the button's spinner. Not answering only leaves it spinning a while, so a failure is logged, not raised. */
async function acknowledge(callbackQueryId: string, text: string | undefined): Promise<void> {
  try {
    await answerCallbackQuery({ callbackQueryId, ...(text === undefined ? {} : { text }) });
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    log.warn('Could not answer the button press', { callbackQueryId, error: String(err.cause ?? err) });
  }
}

/** Signals each of the chat's requests in progress to stop; how many were. */
async function cancelActive(chatId: number): Promise<number> {
  const ids = await findActiveGenerations({ chatId });
  let cancelled = 0;
  for (const id of ids) {
    try {
      await getExternalWorkflowHandle(id).signal(cancelVideoSignal, { by: 'user' });
      cancelled += 1;
    } catch (err) {
      // Already finished: nothing to cancel.
      log.info('Could not signal video workflow', { workflowId: id, error: String(err) });
    }
  }
  return cancelled;
}

/** Pinned (Worker Versioning): a command ends on the build that started it, so a change to it needs no `patched()` branch. */
setWorkflowOptions({ versioningBehavior: 'PINNED' }, botCommand);
