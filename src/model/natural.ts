// The two parts of `natural` the model uses, loaded by file: the package root would also load its
// database-backed stores and their drivers. natural is CommonJS without declarations for these
// files, so the shapes used here are written down once.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface Stemmer {
  stem(token: string): string;
}

interface WordTokenizer {
  tokenize(text: string): string[];
}

type WordTokenizerClass = new () => WordTokenizer;

export const porterStemmer = require('natural/lib/natural/stemmers/porter_stemmer.js') as Stemmer;

const AggressiveTokenizer = require('natural/lib/natural/tokenizers/aggressive_tokenizer.js') as WordTokenizerClass;
export const wordTokenizer: WordTokenizer = new AggressiveTokenizer();
