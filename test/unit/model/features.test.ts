import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { MARKERS, tokenize, type FeatureSettings } from '../../../src/model/features.ts';

const NO_MARKERS = { currency: false, longDigits: false, url: false, allCaps: false, exclamation: false };
const ALL_MARKERS = { currency: true, longDigits: true, url: true, allCaps: true, exclamation: true };
const plain: FeatureSettings = { stem: false, bigrams: false, binary: false, numberWords: true, markers: NO_MARKERS };
const withMarkers = (markers: Partial<FeatureSettings['markers']>): FeatureSettings => ({ ...plain, markers: { ...NO_MARKERS, ...markers } });

describe('model tokenizer', () => {
  it('lower-cases words and splits on punctuation, keeping apostrophes inside words', () => {
    assert.deepEqual(tokenize("Hey, DON'T be late... ok?", plain), ['hey', "don't", 'be', 'late', 'ok']);
  });

  it('strips apostrophes and hyphens at the edges of words', () => {
    assert.deepEqual(tokenize("'quoted' - well-known -", plain), ['quoted', 'well-known']);
  });

  it('stems with the Porter stemmer when asked', () => {
    assert.deepEqual(tokenize('Winning prizes, calling now', { ...plain, stem: true }), ['win', 'prize', 'call', 'now']);
  });

  it('keeps or drops purely numeric words', () => {
    assert.deepEqual(tokenize('text 87121 now', plain), ['text', '87121', 'now']);
    assert.deepEqual(tokenize('text 87121 now', { ...plain, numberWords: false }), ['text', 'now']);
  });

  it('adds word pairs after the words when bigrams are on', () => {
    assert.deepEqual(tokenize('call me now', { ...plain, bigrams: true }), ['call', 'me', 'now', 'call me', 'me now']);
  });

  it('marks currency amounts: symbols before digits, pence after', () => {
    const markers = withMarkers({ currency: true });
    assert.deepEqual(
      tokenize('win £1000 or $ 5 or €20, 150p per msg, 10ppm', markers).filter((token) => token.startsWith('#')),
      [MARKERS.currency, MARKERS.currency, MARKERS.currency, MARKERS.currency, MARKERS.currency],
    );
    assert.equal(tokenize('£ alone, 5 pounds, 2pm', markers).filter((token) => token === MARKERS.currency).length, 0);
  });

  it('marks 5-9 digit runs as short codes and 10+ as phone numbers, spaces inside allowed', () => {
    const markers = withMarkers({ longDigits: true });
    const found = (text: string) => tokenize(text, { ...markers, numberWords: false }).filter((token) => token.startsWith('#'));
    assert.deepEqual(found('text WIN to 87121'), [MARKERS.shortCode]);
    assert.deepEqual(found('call 09050001234 or 0800 123 4567'), [MARKERS.phoneNumber, MARKERS.phoneNumber]);
    assert.deepEqual(found('see you at 10, room 1234'), []);
  });

  it('marks each web address once', () => {
    const markers = withMarkers({ url: true });
    const count = (text: string) => tokenize(text, markers).filter((token) => token === MARKERS.url).length;
    assert.equal(count('visit www.tones4u.example.com today'), 1);
    assert.equal(count('go to http://prize.example.net/claim?id=1 and example.co.uk'), 2);
    assert.equal(count('meet at 5.30 in the park. ok.'), 0);
  });

  it('marks words of two or more capitals, not single letters', () => {
    const tokens = tokenize('FREE entry, I said U WIN', withMarkers({ allCaps: true }));
    assert.equal(tokens.filter((token) => token === MARKERS.allCaps).length, 2);
  });

  it('counts every exclamation mark', () => {
    assert.equal(tokenize('Hi!! Really!', withMarkers({ exclamation: true })).filter((token) => token === MARKERS.exclamation).length, 3);
  });

  it('gives markers a prefix no word can have', () => {
    const tokens = tokenize('#url #caps hashtag', withMarkers(ALL_MARKERS));
    assert.deepEqual(tokens, ['url', 'caps', 'hashtag']);
  });

  it('returns nothing for text without words and never throws on odd input', () => {
    assert.deepEqual(tokenize('  ... ?? ', plain), []);
    assert.deepEqual(tokenize('😀 ✓', plain), []);
    assert.doesNotThrow(() => tokenize('a-'.repeat(5000), { ...plain, stem: true, bigrams: true, markers: ALL_MARKERS }));
  });

  it('loads only the tokenizer and stemmer files of natural, not its package root', () => {
    // In a fresh process: what the whole service loads, read from the CommonJS module cache.
    const script = `
      import { createRequire } from 'node:module';
      await import('./src/model/server.ts');
      const loaded = Object.keys(createRequire(import.meta.url).cache).filter((file) => file.includes('/node_modules/natural/'));
      process.stdout.write(JSON.stringify(loaded.map((file) => file.split('/node_modules/natural/')[1]).sort()));`;
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: path.resolve(import.meta.dirname, '../../..'), encoding: 'utf8' });
    assert.deepEqual(JSON.parse(output), [
      'lib/natural/stemmers/porter_stemmer.js',
      'lib/natural/stemmers/stemmer.js',
      'lib/natural/tokenizers/aggressive_tokenizer.js',
      'lib/natural/tokenizers/tokenizer.js',
      'lib/natural/util/stopwords.js',
    ]);
  });
});
