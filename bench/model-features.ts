// Chooses the model versions' features, smoothing and threshold objective by cross-validation on
// the shared SMS Spam Collection; docs/model.md records the output.
//   node bench/model-features.ts [seeds=3]        (VARIANTS='bigrams|alpha' runs only matching rows)
// The score is (b), stratified 5-fold CV on de-duplicated messages, repeated with `seeds` shuffles:
// mean ± standard deviation of the fold MCCs, plus spam caught and ham blocked. (a), the paper
// split, is printed for reference only: one split is too noisy to choose by.
// Rounds: 1 counts every occurrence (alpha 1) and adds or removes one feature family at a time;
// 2 counts tokens once per message and varies smoothing, stemming and word pairs; 3 varies the
// threshold objective of the two best; last come the presets as shipped. A second table shows how
// much (a) moves with the seed of the threshold's inner cross-validation.
import { existsSync } from 'node:fs';
import { readDataset, sharedTrainingFile } from '../src/model/dataset.ts';
import { crossValidation, paperSplit } from '../src/model/evaluation.ts';
import type { FeatureSettings } from '../src/model/features.ts';
import { PRESETS, type ModelPreset } from '../src/model/presets.ts';
import type { Figures } from '../src/model/scores.ts';
import type { ThresholdObjective } from '../src/model/threshold.ts';

const seeds = Number(process.argv[2] ?? '3');
const file = sharedTrainingFile();
if (!existsSync(file)) {
  process.stderr.write(`The shared SMS Spam Collection is not at ${file} (set SMS_DATA_DIR); nothing to compare.\n`);
  process.exit(1);
}
const { messages } = await readDataset(file);

type Markers = FeatureSettings['markers'];
const NO_MARKERS: Markers = { currency: false, longDigits: false, url: false, allCaps: false, exclamation: false };
const ALL_MARKERS: Markers = { currency: true, longDigits: true, url: true, allCaps: true, exclamation: true };
const BEST_MCC: ThresholdObjective = { kind: 'best-mcc' };
const cap = (maxHamBlocked: number): ThresholdObjective => ({ kind: 'best-mcc-capped-ham-blocked', maxHamBlocked });

interface Change {
  features?: Partial<Omit<FeatureSettings, 'markers'>> & { markers?: Partial<Markers> };
  alpha?: number;
  threshold?: ThresholdObjective;
}

function derive(from: ModelPreset, change: Change): ModelPreset {
  const { markers, ...features } = change.features ?? {};
  return {
    ...from,
    alpha: change.alpha ?? from.alpha,
    threshold: change.threshold ?? from.threshold,
    features: { ...from.features, ...features, markers: { ...from.features.markers, ...markers } },
  };
}

const counted: ModelPreset = {
  ...PRESETS.v1,
  features: { stem: true, bigrams: false, binary: false, numberWords: true, markers: ALL_MARKERS },
  alpha: 1,
  threshold: BEST_MCC,
};
const binary = derive(counted, { features: { binary: true } });
const pairs = derive(binary, { features: { stem: false, bigrams: true }, alpha: 0.1 });

const allVariants: [string, ModelPreset][] = [
  ['1 words only: no stemming, no markers', derive(counted, { features: { stem: false, markers: NO_MARKERS } })],
  ['1 words + markers, no stemming', derive(counted, { features: { stem: false } })],
  ['1 stemmed words, no markers', derive(counted, { features: { markers: NO_MARKERS } })],
  ['1 stemmed words + markers (round 1 base)', counted],
  ...(Object.keys(ALL_MARKERS) as (keyof Markers)[]).map((marker): [string, ModelPreset] => [`1 base − ${marker}`, derive(counted, { features: { markers: { [marker]: false } } })]),
  ['1 base − number words', derive(counted, { features: { numberWords: false } })],
  ['1 base + word pairs', derive(counted, { features: { bigrams: true } })],
  ['2 base, once per message (round 2 base)', binary],
  ['2 once per message − allCaps', derive(binary, { features: { markers: { allCaps: false } } })],
  ['2 once per message, alpha 0.5', derive(binary, { alpha: 0.5 })],
  ['2 once per message, alpha 0.25', derive(binary, { alpha: 0.25 })],
  ['2 once per message, alpha 0.1', derive(binary, { alpha: 0.1 })],
  ['2 once per message, no stemming, alpha 0.25', derive(binary, { features: { stem: false }, alpha: 0.25 })],
  ['2 + word pairs, stemmed, alpha 0.1', derive(binary, { features: { bigrams: true }, alpha: 0.1 })],
  ['2 + word pairs, no stemming, alpha 0.25', derive(pairs, { alpha: 0.25 })],
  ['2 + word pairs, no stemming, alpha 0.1', pairs],
  ['2 + word pairs, no stemming, alpha 0.05', derive(pairs, { alpha: 0.05 })],
  ['3 once per message, alpha 0.25, ham blocked ≤ 0.3%', derive(binary, { alpha: 0.25, threshold: cap(0.003) })],
  ['3 once per message, alpha 0.25, ham blocked ≤ 0.2%', derive(binary, { alpha: 0.25, threshold: cap(0.002) })],
  ['3 word pairs, alpha 0.1, ham blocked ≤ 0.3%', derive(pairs, { threshold: cap(0.003) })],
  ['3 word pairs, alpha 0.1, ham blocked ≤ 0.2%', derive(pairs, { threshold: cap(0.002) })],
  ['3 word pairs, alpha 0.1, ham blocked ≤ 0.1%', derive(pairs, { threshold: cap(0.001) })],
  ['preset v1', PRESETS.v1],
  ['preset v2', PRESETS.v2],
];

const only = process.env.VARIANTS;
const variants = only === undefined ? allVariants : allVariants.filter(([name]) => only.split('|').some((part) => name.includes(part)));
const pct = (value: number) => `${(value * 100).toFixed(2)}%`;

process.stdout.write(`${variants.length} variants, ${messages.length} messages, (b) with ${seeds} shuffle seed(s) × 5 folds\n\n`);
process.stdout.write('| Variant | (b) MCC mean ± sd | (b) spam caught | (b) ham blocked | (a) MCC | (a) ham blocked |\n| --- | ---: | ---: | ---: | ---: | ---: |\n');
for (const [name, preset] of variants) {
  const folds: Figures[] = [];
  for (let seed = 1; seed <= seeds; seed += 1) folds.push(...(crossValidation(messages, preset, seed).folds ?? []));
  const mean = (pick: (fold: Figures) => number) => folds.reduce((sum, fold) => sum + pick(fold), 0) / folds.length;
  const mcc = mean((fold) => fold.mcc);
  const sd = Math.sqrt(mean((fold) => (fold.mcc - mcc) ** 2));
  const paper = paperSplit(messages, preset, 42).figures;
  process.stdout.write(
    `| ${name} | ${mcc.toFixed(4)} ± ${sd.toFixed(3)} | ${pct(mean((fold) => fold.spamCaught))} | ${pct(mean((fold) => fold.hamBlocked))} | ${paper.mcc.toFixed(4)} | ${pct(paper.hamBlocked)} |\n`,
  );
}

// (a) has one split, but the threshold inside it depends on the inner shuffles' seed.
const paperSeeds = 10;
process.stdout.write(`\nPaper split (a) of the presets with inner-CV seeds 1–${paperSeeds}\n\n| Preset | MCC min | MCC mean | MCC max | Ham blocked max |\n| --- | ---: | ---: | ---: | ---: |\n`);
for (const preset of Object.values(PRESETS)) {
  const runs = Array.from({ length: paperSeeds }, (_, index) => paperSplit(messages, preset, index + 1).figures);
  const mccs = runs.map((run) => run.mcc);
  process.stdout.write(
    `| ${preset.version} | ${Math.min(...mccs).toFixed(4)} | ${(mccs.reduce((sum, value) => sum + value, 0) / mccs.length).toFixed(4)} | ${Math.max(...mccs).toFixed(4)} | ${pct(Math.max(...runs.map((run) => run.hamBlocked)))} |\n`,
  );
}
