import type { Catalog, Language } from './catalog.js';
import { en } from './en.js';
import { es } from './es.js';

export * from './catalog.js';

/** Every catalog, by language. */
export const CATALOGS: Readonly<Record<Language, Catalog>> = { en, es };

/** The texts in `language`. */
export function texts(language: Language): Catalog {
  return CATALOGS[language];
}
