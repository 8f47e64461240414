// Simulation of whole progressive deliveries: the progression rule (src/analysis/progression.ts)
// against Flagger's rule, on the same streams.
//   node bench/progression-sim.ts [streams per scenario=2000] [horizon minutes=120]
// Traffic: Poisson requests, 1,200 a minute over both versions, split by the step's weight; the
// canary's weight goes 5, 10, 25, 50% and the step after 50% is 100%, the promotion (with no
// stable traffic left there is nothing to compare). Per request: an error and a slow request at
// the scenario's rate (the canary's errors multiplied in the bad scenarios, its slow requests
// never), a wrong guess at 5% (counted over every request, like errors), and of the answered ones
// 13% spam. Every 10 s the judge sees the step's cumulative counts, judgeExperiment judges the four
// signals, the operator's mapping gives the evidence, and decideStep decides; each step starts its
// counts and state afresh. Flagger's rule on the same streams: every minute the canary's success
// rate over the last minute must be ≥ 99% (a minute without requests fails); a passing check
// moves to the next weight (at 50%: promotes), a failed one holds the weight and counts, and the
// threshold-th failed check rolls back. The rules move the weights differently, so "the same
// streams" means common random numbers: per stream and poll one seeded generator drives every
// rule's draws in the same order, and two rules at the same weight see the same requests.
// A run ends at promotion, rollback or halt, or at the horizon (undecided: waiting or held).
import { type ExperimentJudgement, type StepEvidence, type StepRule, decideStep, judgeExperiment, stepSignalVerdict, stepVerdict } from '../src/analysis/index.ts';
import { binomial, poisson, type Random, seededRandom } from './random.ts';
import { median, percent, shareWithInterval } from './stats.ts';

const streams = Number(process.argv[2] ?? '2000');
const horizonMinutes = Number(process.argv[3] ?? '120');
const ALPHA = 0.05;
const POLL_SECONDS = 10;
const REQUESTS_PER_MINUTE = 1200;
const REQUESTS_PER_POLL = (REQUESTS_PER_MINUTE * POLL_SECONDS) / 60;
const HORIZON_POLLS = Math.round((horizonMinutes * 60) / POLL_SECONDS);
const POLLS_PER_CHECK = 60 / POLL_SECONDS;
/** Canary weights in percent; the last is the promotion. */
const STEPS = [5, 10, 25, 50, 100];
const SPAM_RATE = 0.13;
const GUESS_RATE = 0.05;
const FLAGGER_MIN_SUCCESS = 0.99;

const ruleWith = (onMaxDuration: StepRule['onMaxDuration']): StepRule => ({
  gates: [
    { signal: 'errors', margin: 0.2, negligibleRate: 0.01 },
    { signal: 'slow', margin: 0.2, negligibleRate: 0.01 },
  ],
  minCanaryRequests: 200,
  maxStepSeconds: 600,
  onMaxDuration,
  alpha: ALPHA,
  signalCount: 4,
});

interface Scenario {
  /** Stable error rate, and both versions' slow rate. */
  readonly rate: number;
  /** Canary error rate ÷ stable error rate once the failure started. */
  readonly factor: number;
  /** Index of the step from which the canary fails (0: from the start). */
  readonly failsFromStep: number;
  readonly label: string;
}

type End = 'promoted' | 'rolled back' | 'halted' | 'undecided';

interface Outcome {
  readonly end: End;
  readonly poll: number;
  /** Canary requests over the whole run. */
  readonly canaryRequests: number;
  /** Poll and canary requests when the canary began to fail (null: it never reached that step). */
  readonly failure: { readonly poll: number; readonly canaryRequests: number } | null;
  /** Steps the judge advanced on evidence and at the maximum duration. */
  readonly advances: { readonly evidence: number; readonly maxDuration: number };
}

/** One poll's requests: the same generator, drawn in the same order, whichever rule asks. */
interface Poll {
  readonly canary: { trials: number; errors: number; slow: number; guesses: number; spam: number };
  readonly stable: { trials: number; errors: number; slow: number; guesses: number; spam: number };
}

function drawPoll(random: Random, weight: number, canaryErrorRate: number, scenario: Scenario, full: boolean): Poll {
  const requests = poisson(random, REQUESTS_PER_POLL);
  const canaryTrials = binomial(random, requests, weight / 100);
  const canaryErrors = binomial(random, canaryTrials, canaryErrorRate);
  const stableTrials = requests - canaryTrials;
  const stableErrors = binomial(random, stableTrials, scenario.rate);
  if (!full) {
    return { canary: { trials: canaryTrials, errors: canaryErrors, slow: 0, guesses: 0, spam: 0 }, stable: { trials: stableTrials, errors: stableErrors, slow: 0, guesses: 0, spam: 0 } };
  }
  const arm = (trials: number, errors: number) => ({
    trials,
    errors,
    slow: binomial(random, trials, scenario.rate),
    guesses: binomial(random, trials, GUESS_RATE),
    spam: binomial(random, trials - errors, SPAM_RATE),
  });
  const canary = arm(canaryTrials, canaryErrors);
  return { canary, stable: arm(stableTrials, stableErrors) };
}

const pollRandom = (stream: number, poll: number) => seededRandom((stream * 0x10000 + poll) >>> 0);
const canaryRateAt = (scenario: Scenario, step: number) => (step >= scenario.failsFromStep ? Math.min(1, scenario.factor * scenario.rate) : scenario.rate);

/** status.analysis as the operator writes it (judgeStep in src/operator/controller/analysis.ts). */
function operatorEvidence(judged: ExperimentJudgement): StepEvidence {
  const signals = Object.entries(judged.signals).map(([name, signal]) => {
    const [low, high] = signal.interval;
    const verdict = stepSignalVerdict(name, signal, ALPHA);
    return { name, stable: signal.counts.stable, canary: signal.counts.canary, verdict, interval: [low, high === null || !Number.isFinite(high) ? -1 : high] };
  });
  return { verdict: stepVerdict(signals.map((signal) => signal.verdict)), signals };
}

function runJudge(stream: number, scenario: Scenario, rule: StepRule): Outcome {
  let step = 0;
  let stepStartPoll = 0;
  let state: ExperimentJudgement['state'] | undefined;
  let counts = freshCounts();
  let canaryRequests = 0;
  let failure = scenario.failsFromStep === 0 ? { poll: 0, canaryRequests: 0 } : null;
  const advances = { evidence: 0, maxDuration: 0 };
  for (let poll = 1; poll <= HORIZON_POLLS; poll += 1) {
    const weight = STEPS[step] as number;
    const drawn = drawPoll(pollRandom(stream, poll), weight, canaryRateAt(scenario, step), scenario, true);
    canaryRequests += drawn.canary.trials;
    for (const arm of ['stable', 'canary'] as const) {
      const d = drawn[arm];
      const c = counts[arm];
      c.requests += d.trials;
      c.errors += d.errors;
      c.slow += d.slow;
      c.guesses += d.guesses;
      c.answered += d.trials - d.errors;
      c.spam += d.spam;
    }
    const judged = judgeExperiment(state, signalCounts(counts), { split: { stable: 100 - weight, canary: weight }, alpha: ALPHA });
    state = judged.state;
    const decision = decideStep(rule, operatorEvidence(judged), (poll - stepStartPoll) * POLL_SECONDS);
    if (decision.action === 'rollback') return { end: 'rolled back', poll, canaryRequests, failure, advances };
    if (decision.action === 'halt') return { end: 'halted', poll, canaryRequests, failure, advances };
    if (decision.action === 'advance') {
      advances[decision.reason === 'evidence' ? 'evidence' : 'maxDuration'] += 1;
      step += 1;
      if (step === STEPS.length - 1) return { end: 'promoted', poll, canaryRequests, failure, advances };
      if (step === scenario.failsFromStep) failure = { poll, canaryRequests };
      stepStartPoll = poll;
      state = undefined;
      counts = freshCounts();
    }
  }
  return { end: 'undecided', poll: HORIZON_POLLS, canaryRequests, failure, advances };
}

function runFlagger(stream: number, scenario: Scenario, threshold: number): Outcome {
  let step = 0;
  let failed = 0;
  let windowRequests = 0;
  let windowErrors = 0;
  let canaryRequests = 0;
  let failure = scenario.failsFromStep === 0 ? { poll: 0, canaryRequests: 0 } : null;
  const advances = { evidence: 0, maxDuration: 0 };
  for (let poll = 1; poll <= HORIZON_POLLS; poll += 1) {
    const drawn = drawPoll(pollRandom(stream, poll), STEPS[step] as number, canaryRateAt(scenario, step), scenario, false);
    canaryRequests += drawn.canary.trials;
    windowRequests += drawn.canary.trials;
    windowErrors += drawn.canary.errors;
    if (poll % POLLS_PER_CHECK !== 0) continue;
    const passed = windowRequests > 0 && 1 - windowErrors / windowRequests >= FLAGGER_MIN_SUCCESS;
    windowRequests = 0;
    windowErrors = 0;
    if (!passed) {
      failed += 1;
      if (failed >= threshold) return { end: 'rolled back', poll, canaryRequests, failure, advances };
      continue;
    }
    step += 1;
    if (step === STEPS.length - 1) return { end: 'promoted', poll, canaryRequests, failure, advances };
    if (step === scenario.failsFromStep) failure = { poll, canaryRequests };
  }
  return { end: 'undecided', poll: HORIZON_POLLS, canaryRequests, failure, advances };
}

interface Arm {
  requests: number;
  errors: number;
  slow: number;
  guesses: number;
  answered: number;
  spam: number;
}
const freshArm = (): Arm => ({ requests: 0, errors: 0, slow: 0, guesses: 0, answered: 0, spam: 0 });
const freshCounts = () => ({ stable: freshArm(), canary: freshArm() });
function signalCounts(counts: { stable: Arm; canary: Arm }) {
  const of = (trials: keyof Arm, events: keyof Arm) => ({
    stable: { trials: counts.stable[trials], events: counts.stable[events] },
    canary: { trials: counts.canary[trials], events: counts.canary[events] },
  });
  return { errors: of('requests', 'errors'), slow: of('requests', 'slow'), guesses: of('requests', 'guesses'), spam: of('answered', 'spam') };
}

const RULES: { readonly name: string; readonly run: (stream: number, scenario: Scenario) => Outcome }[] = [
  { name: 'Judge, advance at 600 s', run: (stream, scenario) => runJudge(stream, scenario, ruleWith('advance')) },
  { name: 'Judge, hold at 600 s', run: (stream, scenario) => runJudge(stream, scenario, ruleWith('hold')) },
  { name: 'Flagger, threshold 5', run: (stream, scenario) => runFlagger(stream, scenario, 5) },
  { name: 'Flagger, threshold 1', run: (stream, scenario) => runFlagger(stream, scenario, 1) },
];

const count = (value: number) => (Number.isNaN(value) ? '–' : Math.round(value).toLocaleString('en'));
const minutes = (value: number) => (Number.isNaN(value) ? '–' : ((value * POLL_SECONDS) / 60).toFixed(1));

/** Mean steps advanced per run on evidence and at the maximum duration (the judge's only). */
function advancesCell(name: string, outcomes: Outcome[]): string {
  if (name.startsWith('Flagger')) return '–';
  const mean = (pick: (o: Outcome) => number) => (outcomes.reduce((sum, o) => sum + pick(o), 0) / outcomes.length).toFixed(2);
  return `${mean((o) => o.advances.evidence)} / ${mean((o) => o.advances.maxDuration)}`;
}

let nextStream = 1;
/** Every rule on the same streams of one scenario. */
function simulate(scenario: Scenario): Map<string, Outcome[]> {
  const first = nextStream;
  nextStream += streams;
  return new Map(RULES.map((rule) => [rule.name, Array.from({ length: streams }, (_, i) => rule.run(first + i, scenario))]));
}

const started = performance.now();
const out = (text: string) => process.stdout.write(text);
out(
  `${streams} streams per scenario, ${REQUESTS_PER_MINUTE.toLocaleString('en')} requests/minute over both versions, canary steps ${STEPS.slice(0, -1).join(', ')}% then ${STEPS.at(-1)}% (promotion), ` +
    `a poll every ${POLL_SECONDS} s, horizon ${horizonMinutes} min. Judge: gates errors and slow (margin 20%, negligible rate 1%), ≥ 200 canary requests, 600 s a step at most, α = ${ALPHA} over 4 signals. ` +
    `Flagger: 1-minute checks of the canary's success rate ≥ ${100 * FLAGGER_MIN_SUCCESS}%.\n\n`,
);

out('Good canary (the same rates as the stable version; slow requests at the error rate)\n\n');
out('| Error rate | Rule | promoted | false rollbacks | halted | undecided | minutes to promotion | canary requests to promotion | advances a run: on evidence / at 600 s |\n');
out('| ---: | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |\n');
for (const rate of [0.001, 0.01]) {
  const results = simulate({ rate, factor: 1, failsFromStep: 0, label: 'same' });
  for (const [name, outcomes] of results) {
    const ends = (end: End) => outcomes.filter((o) => o.end === end);
    const promoted = ends('promoted');
    out(
      `| ${percent(rate, 1)} | ${name} | ${percent(promoted.length / streams)} | ${shareWithInterval(ends('rolled back').length, streams)} | ${percent(ends('halted').length / streams)} | ${percent(ends('undecided').length / streams)} | ` +
        `${minutes(median(promoted.map((o) => o.poll)))} | ${count(median(promoted.map((o) => o.canaryRequests)))} | ${advancesCell(name, outcomes)} |\n`,
    );
  }
}

out('\nBad canary: share rolled back; medians over the rolled-back streams of the canary requests and minutes from the start of the failure; wrong promotions\n\n');
out('| Stable error rate | Canary | Rule | rolled back | canary requests to rollback | minutes to rollback | wrongly promoted | halted | undecided | rolled back before the failure | advances a run: on evidence / at 600 s |\n');
out('| ---: | --- | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |\n');
for (const rate of [0.001, 0.01]) {
  const scenarios: Scenario[] = [
    { rate, factor: 2, failsFromStep: 0, label: '2× from the start' },
    { rate, factor: 5, failsFromStep: 0, label: '5× from the start' },
    { rate, factor: 5, failsFromStep: 1, label: '5× from step 2 (10%)' },
  ];
  for (const scenario of scenarios) {
    for (const [name, outcomes] of simulate(scenario)) {
      const ends = (end: End) => outcomes.filter((o) => o.end === end);
      const rolledBack = ends('rolled back');
      const afterFailure = rolledBack.flatMap((o) => (o.failure === null ? [] : [{ polls: o.poll - o.failure.poll, requests: o.canaryRequests - o.failure.canaryRequests }]));
      out(
        `| ${percent(rate, 1)} | ${scenario.label} | ${name} | ${percent(afterFailure.length / streams)} | ${count(median(afterFailure.map((r) => r.requests)))} | ${minutes(median(afterFailure.map((r) => r.polls)))} | ` +
          `${shareWithInterval(ends('promoted').length, streams)} | ${percent(ends('halted').length / streams)} | ${percent(ends('undecided').length / streams)} | ${scenario.failsFromStep === 0 ? '–' : percent((rolledBack.length - afterFailure.length) / streams)} | ${advancesCell(name, outcomes)} |\n`,
      );
    }
  }
}
out(`\n${((performance.now() - started) / 1000).toFixed(0)} s\n`);
