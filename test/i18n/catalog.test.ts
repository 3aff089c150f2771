import { describe, expect, it } from 'vitest';
import { CATALOGS, LANGUAGES, MEDIA_KINDS, MENU_COMMANDS, languageOf, type Catalog } from '../../src/i18n/index.js';

/** Every key path of a catalog, nested objects included (functions are leaves). */
function keyPaths(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null) return [prefix];
  return Object.entries(value).flatMap(([key, inner]) => keyPaths(inner, prefix ? `${prefix}.${key}` : key));
}

const SETTINGS_VIEW = {
  current: { model: 'wavespeed-ai/wan-2.2/i2v-480p', durationSeconds: 5 },
  offers: [{ model: 'wavespeed-ai/wan-2.2/i2v-480p', label: 'Wan 2.2 480p', lengths: [{ seconds: 5, usd: 0.15 }, { seconds: 8, usd: 0.24 }] }],
};

/** Each text of a catalog rendered with sample arguments, by key. */
function rendered(t: Catalog): Record<string, string> {
  const usage = { today: 2, dailyQuota: 10, maxActive: 2, running: 1, queued: 1, spentTodayUsd: 0.4 };
  return {
    help: t.help,
    welcome: t.welcome,
    noCaption: t.noCaption,
    unknown: t.unknown,
    album: t.album,
    edited: t.edited,
    ...Object.fromEntries(MEDIA_KINDS.map((kind) => [`unsupportedMedia.${kind}`, t.unsupportedMedia(kind)])),
    ...Object.fromEntries(Object.entries(t.progress).map(([k, v]) => [`progress.${k}`, v])),
    unconfirmedDelivery: t.unconfirmedDelivery('https://example.test/v.mp4'),
    unconfirmedCachedDelivery: t.unconfirmedCachedDelivery,
    queued: t.queued({ position: 3, paused: false }),
    queuedPaused: t.queued({ position: 3, paused: true }),
    failureBusy: t.failure('busy'),
    failureRejected: t.failure('rejected', 'bad prompt'),
    status: t.status([{ prompt: 'waves', status: 'completed', requestedAt: '2026-12-04T10:00:00Z', error: null }]),
    statusEmpty: t.status([]),
    cancelled: t.cancelled(2),
    subscribeUsage: t.subscribeUsage,
    unsubscribeUsage: t.unsubscribeUsage,
    staleButton: t.staleButton,
    sources: t.sources([{ slug: 'tech', title: 'Tech', subscribed: false }]).text,
    sourceButton: t.sources([{ slug: 'tech', title: 'Tech', subscribed: false }]).buttons[0]!.text,
    subscribe: t.subscribe({ outcome: 'subscribed', title: 'Tech' }, 'tech'),
    subscribeNotice: t.subscribeNotice({ outcome: 'already-subscribed', title: 'Tech' }),
    unsubscribe: t.unsubscribe({ outcome: 'not-subscribed', title: 'Tech' }, 'tech'),
    subscriptions: t.subscriptions([]),
    refusal: t.refusal({ decision: 'refused', reason: 'daily-quota', quota: 5 }),
    userQueued: t.userQueued(2),
    slowDown: t.slowDown,
    settings: t.settings(SETTINGS_VIEW).text,
    settingsButton: t.settings(SETTINGS_VIEW).buttons[0]!.text,
    settingsSaved: t.settingsSaved,
    history: t.history([{ generationId: 'video-1-2', prompt: 'waves', completedAt: '2026-12-04T10:00:00Z' }]).text,
    historyEmpty: t.history([]).text,
    resending: t.resending,
    videoTooLarge: t.videoTooLarge('https://example.test/v.mp4'),
    againButton: t.againButton,
    newPromptButton: t.newPromptButton,
    makingAgain: t.makingAgain,
    newPromptAsk: t.newPromptAsk,
    repeatGone: t.repeatGone,
    resendGone: t.resendGone,
    usage: t.usage(usage),
    languagePrompt: t.languagePrompt,
    languageChosen: t.languageChosen,
    unsupportedImage: t.unsupportedImage('image/heic'),
    imageTooLarge: t.imageTooLarge(20),
    ...Object.fromEntries(Object.entries(t.commands).map(([k, v]) => [`commands.${k}`, v])),
  };
}

describe('message catalogs', () => {
  it('speaks English and Spanish at least', () => {
    expect(LANGUAGES).toEqual(expect.arrayContaining(['en', 'es']));
  });

  it.each(LANGUAGES.filter((l) => l !== 'en'))('%s has exactly the keys English has', (language) => {
    expect(keyPaths(CATALOGS[language]).sort()).toEqual(keyPaths(CATALOGS.en).sort());
  });

  it('fails on a catalog missing a key another has (the check itself)', () => {
    const { staleButton: _dropped, ...short } = CATALOGS.es;
    expect(keyPaths(short).sort()).not.toEqual(keyPaths(CATALOGS.en).sort());
  });

  it.each(LANGUAGES)('%s renders every text, none empty, and describes every menu command', (language) => {
    const texts = rendered(CATALOGS[language]);
    for (const [key, text] of Object.entries(texts)) expect(text.trim(), key).not.toBe('');
    expect(Object.keys(CATALOGS[language].commands).sort()).toEqual([...MENU_COMMANDS].sort());
    // Telegram: command descriptions of 1-256 characters.
    for (const description of Object.values(CATALOGS[language].commands)) expect(description.length).toBeLessThanOrEqual(256);
  });

  it('translates rather than copies: no Spanish text equals its English one except names and links', () => {
    const en = rendered(CATALOGS.en);
    const es = rendered(CATALOGS.es);
    const same = Object.keys(en).filter((key) => en[key] === es[key]);
    expect(same).toEqual([]);
  });
});

describe('languageOf', () => {
  it.each([
    ['es', 'es'],
    ['es-MX', 'es'],
    ['ES', 'es'],
    ['en-GB', 'en'],
    ['pt-br', 'en'],
    [undefined, 'en'],
    [null, 'en'],
  ] as const)('%s → %s', (code, language) => {
    expect(languageOf(code)).toBe(language);
  });
});
