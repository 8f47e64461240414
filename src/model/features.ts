// Turns an SMS into the tokens the classifier counts: natural's word tokenizer and Porter stemmer,
// plus SMS-specific marker tokens (currency amounts, long digit runs, URLs, all-caps words, "!").
// Which of these are on is a setting of the model version, chosen by cross-validation
// (bench/model-features.ts), and stored in the artifact so a model always tokenizes as it was trained.
import { z } from 'zod';
import { porterStemmer, wordTokenizer } from './natural.ts';

export const featureSettingsSchema = z
  .object({
    /** Reduce words to their Porter stem ("winning" → "win"). */
    stem: z.boolean(),
    /** Also count adjacent word pairs ("call now"). */
    bigrams: z.boolean(),
    /** Count a token once per message (binary multinomial) instead of every occurrence. */
    binary: z.boolean(),
    /** Keep purely numeric words such as "87121" as tokens of their own. */
    numberWords: z.boolean(),
    markers: z
      .object({
        /** £/$/€ followed by a digit, or a digit followed by "p"/"pence"/"ppm". */
        currency: z.boolean(),
        /** Digit runs of 5+ (short codes) and 10+ (phone numbers), spaces inside numbers allowed. */
        longDigits: z.boolean(),
        /** http(s)://, www. and bare domains such as example.com. */
        url: z.boolean(),
        /** Words of 2+ letters written in capitals ("FREE", "WIN"). */
        allCaps: z.boolean(),
        /** Each "!" counts once. */
        exclamation: z.boolean(),
      })
      .strict(),
  })
  .strict();

export type FeatureSettings = z.infer<typeof featureSettingsSchema>;

// Marker tokens start with '#', which the word tokenizer never emits, so they cannot collide with words.
export const MARKERS = {
  currency: '#currency',
  shortCode: '#digits5',
  phoneNumber: '#digits10',
  url: '#url',
  allCaps: '#caps',
  exclamation: '#exclaim',
} as const;

const CURRENCY = /[£$€]\s?\d|\d(?:p|pence|ppm)\b/gi;
const DIGIT_RUN = /\d(?:[\d ]*\d)?/g;
// One match per address: a scheme or www. takes the rest of the address; otherwise a dotted name
// ending in a common domain. Bounded label lengths keep backtracking linear on hostile input.
const URL = /\b(?:https?:\/\/|www\.)\S+|\b[a-z0-9][a-z0-9-]{0,62}(?:\.[a-z0-9-]{1,63}){0,4}\.(?:com|net|org|co\.uk|biz|info)\b/gi;
const ALL_CAPS_WORD = /\b[A-Z]{2,}\b/g;
const NUMBER_WORD = /^\d+$/;

// Porter stemming costs microseconds a word; SMS vocabulary is small, so results are memoised.
// The bound keeps a stream of never-seen words from growing the memory without limit.
const STEM_CACHE_LIMIT = 50_000;
const stemCache = new Map<string, string>();

function stem(word: string): string {
  let stemmed = stemCache.get(word);
  if (stemmed === undefined) {
    stemmed = porterStemmer.stem(word);
    if (stemCache.size >= STEM_CACHE_LIMIT) stemCache.clear();
    stemCache.set(word, stemmed);
  }
  return stemmed;
}

function countMatches(pattern: RegExp, text: string): number {
  pattern.lastIndex = 0;
  let count = 0;
  while (pattern.exec(text) !== null) count += 1;
  return count;
}

function pushTimes(tokens: string[], token: string, times: number): void {
  for (let index = 0; index < times; index += 1) tokens.push(token);
}

function markerTokens(text: string, markers: FeatureSettings['markers'], tokens: string[]): void {
  if (markers.currency) pushTimes(tokens, MARKERS.currency, countMatches(CURRENCY, text));
  if (markers.longDigits) {
    DIGIT_RUN.lastIndex = 0;
    for (let match = DIGIT_RUN.exec(text); match !== null; match = DIGIT_RUN.exec(text)) {
      let digits = 0;
      for (const character of match[0]) if (character !== ' ') digits += 1;
      if (digits >= 10) tokens.push(MARKERS.phoneNumber);
      else if (digits >= 5) tokens.push(MARKERS.shortCode);
    }
  }
  if (markers.url) pushTimes(tokens, MARKERS.url, countMatches(URL, text));
  if (markers.allCaps) pushTimes(tokens, MARKERS.allCaps, countMatches(ALL_CAPS_WORD, text));
  if (markers.exclamation) {
    let count = 0;
    for (let index = text.indexOf('!'); index >= 0; index = text.indexOf('!', index + 1)) count += 1;
    pushTimes(tokens, MARKERS.exclamation, count);
  }
}

/** The tokens of one message, in order (duplicates kept; `binary` is applied when counting). */
export function tokenize(text: string, settings: FeatureSettings): string[] {
  const words: string[] = [];
  for (const raw of wordTokenizer.tokenize(text)) {
    // The tokenizer keeps ' - / inside words; at the edges they are punctuation ("-", "'hi'").
    const word = raw.toLowerCase().replace(/^['\-/]+|['\-/]+$/g, '');
    if (word === '') continue;
    if (!settings.numberWords && NUMBER_WORD.test(word)) continue;
    words.push(settings.stem ? stem(word) : word);
  }
  const tokens = [...words];
  if (settings.bigrams) {
    for (let index = 1; index < words.length; index += 1) tokens.push(`${words[index - 1]} ${words[index]}`);
  }
  markerTokens(text, settings.markers, tokens);
  return tokens;
}
