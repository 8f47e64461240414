// Simulation of the canary judge (src/analysis) against Flagger's default rule, on the same streams.
//   node bench/analysis-sim.ts [streams per setting=2000] [requests per minute=1200] [snapshots=500] [concentration k=100]
// Traffic: Poisson requests at the given rate (both versions together), split by the designed
// weights, each request an error with its version's rate; the judge looks at every poll (every
// 10 s, 500 polls ≈ 83 minutes). Flagger's rule on the same requests: per 1-minute window, canary
// success rate ≥ 99% passes, anything else (also a window without requests) is a failed check;
// rollback when failed checks reach `threshold` (1, its default, and 5).
// A/A: the share of streams with any worse/better/SRM verdict, which must stay ≤ α = 0.05.
// A/B: the canary at 1.5×, 2×, 5× the stable error rate at a 10% split: share detected and canary
// requests to detection, and how often the rate ratio's confidence sequence (level 1 − α/2) ever
// left out the true ratio. Shadow: mirrored messages classified by both models, disagreements at
// a given rate and leaning a given way; false leans under 50/50, detection otherwise, and how often
// the agreement rate's confidence sequence left out the truth. Seeded: the same arguments give the
// same figures.
import { judgeShadow, judgeSignal, type ShadowState, type SignalState, type Split } from '../src/analysis/index.ts';
import { binomial, poisson, seededRandom } from './random.ts';
import { median, percent, shareWithInterval } from './stats.ts';

const streams = Number(process.argv[2] ?? '2000');
const requestsPerMinute = Number(process.argv[3] ?? '1200');
const snapshots = Number(process.argv[4] ?? '500');
const concentration = Number(process.argv[5] ?? '100');
const ALPHA = 0.05;
const POLL_SECONDS = 10;
const POLLS_PER_WINDOW = 60 / POLL_SECONDS;
const FLAGGER_MIN_SUCCESS = 0.99;
const FLAGGER_THRESHOLDS = [1, 5];

interface StreamOutcome {
  /** Poll at which the judge first gave a verdict other than no-difference-yet, and that verdict. */
  judge: { poll: number; canaryRequests: number; verdict: string } | null;
  /** Flagger's checks: for each failed one, the minute it ended and the canary's requests so far. */
  failedChecks: { minute: number; canaryRequests: number }[];
  /** Whether the rate ratio's confidence sequence left out the true ratio at some poll. */
  intervalMissedTruth: boolean;
}

function runStream(seed: number, split: Split, stableRate: number, canaryRate: number): StreamOutcome {
  const random = seededRandom(seed);
  const canaryShare = split.canary / 100;
  const requestsPerPoll = (requestsPerMinute * POLL_SECONDS) / 60;
  const counts = { stable: { trials: 0, events: 0 }, canary: { trials: 0, events: 0 } };
  let state: SignalState | undefined;
  const outcome: StreamOutcome = { judge: null, failedChecks: [], intervalMissedTruth: false };
  const trueRatio = canaryRate / stableRate;
  let windowRequests = 0;
  let windowErrors = 0;
  for (let poll = 1; poll <= snapshots; poll += 1) {
    const requests = poisson(random, requestsPerPoll);
    const canary = binomial(random, requests, canaryShare);
    const canaryErrors = binomial(random, canary, canaryRate);
    counts.canary.trials += canary;
    counts.canary.events += canaryErrors;
    counts.stable.trials += requests - canary;
    counts.stable.events += binomial(random, requests - canary, stableRate);
    // judged to the end, for the confidence sequence's coverage; the verdict is the first one
    const judgement = judgeSignal(state, counts, { split, alpha: ALPHA, concentration });
    state = judgement.state;
    if (outcome.judge === null && judgement.verdict !== 'no-difference-yet') outcome.judge = { poll, canaryRequests: counts.canary.trials, verdict: judgement.verdict };
    const [lower, upper] = judgement.interval;
    if (lower > trueRatio || (upper !== null && upper < trueRatio)) outcome.intervalMissedTruth = true;
    windowRequests += canary;
    windowErrors += canaryErrors;
    if (poll % POLLS_PER_WINDOW === 0) {
      // Flagger: a window without values is a failed check too
      const passed = windowRequests > 0 && 1 - windowErrors / windowRequests >= FLAGGER_MIN_SUCCESS;
      if (!passed) outcome.failedChecks.push({ minute: poll / POLLS_PER_WINDOW, canaryRequests: counts.canary.trials });
      windowRequests = 0;
      windowErrors = 0;
    }
  }
  return outcome;
}

/** Flagger's rollback with a threshold: when the threshold-th check fails. */
const rollbackAt = (outcome: StreamOutcome, threshold: number) => outcome.failedChecks[threshold - 1] ?? null;

/** The smallest threshold whose false-rollback share on these A/A streams is ≤ α (null: none within the run). */
function calibratedThreshold(aa: StreamOutcome[]): number | null {
  const windows = Math.floor(snapshots / POLLS_PER_WINDOW);
  for (let threshold = 1; threshold <= windows; threshold += 1) {
    if (aa.filter((outcome) => rollbackAt(outcome, threshold) !== null).length / aa.length <= ALPHA) return threshold;
  }
  return null;
}

const fmt = (value: number) => (Number.isNaN(value) ? '–' : Math.round(value).toLocaleString('en'));

const started = performance.now();
let seed = 1;
const out = (text: string) => process.stdout.write(text);
out(`${streams} streams per setting, ${snapshots} polls every ${POLL_SECONDS} s (${((snapshots * POLL_SECONDS) / 60).toFixed(0)} min), ${requestsPerMinute.toLocaleString('en')} requests/minute over both versions, α = ${ALPHA} (rate test and SRM test α/2 each), prior concentration k = ${concentration}\n\n`);

out('A/A (identical versions): share of streams with any false verdict, 95% Wilson interval\n\n');
out('| Split | Error rate | Judge: any worse/better/SRM | of which SRM | Flagger threshold 1: false rollbacks | Flagger threshold 5: false rollbacks | Flagger threshold for ≤ α false rollbacks |\n| --- | ---: | --- | ---: | --- | --- | ---: |\n');
let worstAa = 0;
const calibrated = new Map<number, number | null>();
for (const split of [{ stable: 90, canary: 10 }, { stable: 50, canary: 50 }]) {
  for (const rate of [0.001, 0.005, 0.01, 0.02, 0.05]) {
    const outcomes = Array.from({ length: streams }, () => runStream(seed++, split, rate, rate));
    const falseVerdicts = outcomes.filter((outcome) => outcome.judge !== null).length;
    const srm = outcomes.filter((outcome) => outcome.judge?.verdict === 'sample-ratio-mismatch').length;
    const rollbacks = FLAGGER_THRESHOLDS.map((threshold) => outcomes.filter((outcome) => rollbackAt(outcome, threshold) !== null).length);
    const threshold = calibratedThreshold(outcomes);
    if (split.canary === 10) calibrated.set(rate, threshold);
    worstAa = Math.max(worstAa, falseVerdicts / streams);
    out(`| ${split.stable}/${split.canary} | ${percent(rate, 1)} | ${shareWithInterval(falseVerdicts, streams)} | ${srm} | ${rollbacks.map((n) => shareWithInterval(n, streams)).join(' | ')} | ${threshold ?? 'none'} |\n`);
  }
}
out(`\nWorst A/A false-verdict share of the judge: ${percent(worstAa)} (α = ${percent(ALPHA)})\n\n`);

out('A/B (canary worse, 10% split): share detected; medians over the detected streams (canary requests, minutes)\n\n');
const flaggerHeads = [...FLAGGER_THRESHOLDS.map((t) => `t=${t}`), 't for ≤ α'].map((t) => `Flagger ${t}: rolled back | canary requests | minutes`);
out(`| Stable error rate | Canary | Judge: detected (worse) | wrong verdict | canary requests | minutes | ratio interval missed the truth | ${flaggerHeads.join(' | ')} |\n`);
out(`| ---: | ---: | --- | ---: | ---: | ---: | ---: |${' --- | ---: | ---: |'.repeat(flaggerHeads.length)}\n`);
for (const rate of [0.001, 0.01, 0.05]) {
  for (const factor of [1.5, 2, 5]) {
    const outcomes = Array.from({ length: streams }, () => runStream(seed++, { stable: 90, canary: 10 }, rate, Math.min(1, factor * rate)));
    const detected = outcomes.flatMap((outcome) => (outcome.judge?.verdict === 'worse' ? [outcome.judge] : []));
    const wrong = outcomes.filter((outcome) => outcome.judge !== null && outcome.judge.verdict !== 'worse').length;
    const threshold = calibrated.get(rate) ?? null;
    const flaggerCells = [...FLAGGER_THRESHOLDS, threshold].map((t) => {
      if (t === null) return 'no threshold | – | –';
      const rollbacks = outcomes.flatMap((outcome) => rollbackAt(outcome, t) ?? []);
      return `${shareWithInterval(rollbacks.length, streams)} | ${fmt(median(rollbacks.map((r) => r.canaryRequests)))} | ${fmt(median(rollbacks.map((r) => r.minute)))}`;
    });
    const minutes = median(detected.map((d) => (d.poll * POLL_SECONDS) / 60));
    const missed = outcomes.filter((outcome) => outcome.intervalMissedTruth).length;
    const judgeCells = `${shareWithInterval(detected.length, streams)} | ${wrong} | ${fmt(median(detected.map((d) => d.canaryRequests)))} | ${Number.isNaN(minutes) ? '–' : minutes.toFixed(1)} | ${percent(missed / streams)}`;
    out(`| ${percent(rate, 1)} | ${factor}× | ${judgeCells} | ${flaggerCells.join(' | ')} |\n`);
  }
}
out(`\nFlagger's calibrated threshold (10% split): ${[...calibrated].map(([rate, t]) => `${percent(rate, 1)} → ${t ?? 'none'}`).join(', ')}\n`);
out(`\nShadow agreement (${requestsPerMinute.toLocaleString('en')} mirrored messages/minute, 13% spam on both, polls as above): lean test at α/2, confidence sequences at 1 − α/2\n\n`);
out('| Disagreement rate | Shadow-only share of disagreements | Lean verdict (false if 50%) | median pairs to it | agreement interval missed the truth | lean interval missed the truth |\n| ---: | ---: | --- | ---: | ---: | ---: |\n');
for (const disagreement of [0.002, 0.01, 0.05]) {
  for (const shadowOnlyShare of [0.5, 0.6, 0.75]) {
    let leaned = 0;
    let wrongWay = 0;
    let agreementMissed = 0;
    let leanMissed = 0;
    const pairsToLean: number[] = [];
    for (let stream = 0; stream < streams; stream += 1) {
      const random = seededRandom(seed++);
      const pairs = { bothSpam: 0, bothHam: 0, shadowOnlySpam: 0, stableOnlySpam: 0 };
      let state: ShadowState | undefined;
      let leanSeen = false;
      let agreementOut = false;
      let leanOut = false;
      for (let poll = 1; poll <= snapshots; poll += 1) {
        const messages = poisson(random, (requestsPerMinute * POLL_SECONDS) / 60);
        const disagreed = binomial(random, messages, disagreement);
        const shadowOnly = binomial(random, disagreed, shadowOnlyShare);
        const bothSpam = binomial(random, messages - disagreed, 0.13);
        pairs.bothSpam += bothSpam;
        pairs.bothHam += messages - disagreed - bothSpam;
        pairs.shadowOnlySpam += shadowOnly;
        pairs.stableOnlySpam += disagreed - shadowOnly;
        const judgement = judgeShadow(state, pairs, { alpha: ALPHA });
        state = judgement.state;
        const [agreementLow, agreementHigh] = judgement.agreement.interval;
        if (agreementLow > 1 - disagreement || agreementHigh < 1 - disagreement) agreementOut = true;
        const [leanLow, leanHigh] = judgement.lean.interval;
        if (leanLow > shadowOnlyShare || leanHigh < shadowOnlyShare) leanOut = true;
        if (!leanSeen && judgement.lean.verdict !== 'no-lean-yet') {
          leanSeen = true;
          leaned += 1;
          if (judgement.lean.verdict !== 'shadow-flags-more-spam') wrongWay += 1;
          pairsToLean.push(pairs.bothSpam + pairs.bothHam + pairs.shadowOnlySpam + pairs.stableOnlySpam);
        }
      }
      if (agreementOut) agreementMissed += 1;
      if (leanOut) leanMissed += 1;
    }
    const wrongNote = shadowOnlyShare === 0.5 || wrongWay === 0 ? '' : ` (${wrongWay} the wrong way)`;
    out(`| ${percent(disagreement, 1)} | ${percent(shadowOnlyShare, 0)} | ${shareWithInterval(leaned, streams)}${wrongNote} | ${fmt(median(pairsToLean))} | ${percent(agreementMissed / streams)} | ${percent(leanMissed / streams)} |\n`);
  }
}
out(`\n${((performance.now() - started) / 1000).toFixed(0)} s\n`);
