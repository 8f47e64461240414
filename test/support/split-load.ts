// A load generator that stands in for Envoy: each request goes to app v1 or v2 at random with the
// VirtualService's weights (a seeded generator, so runs repeat), and a share of the stable app's
// model calls is copied to the shadow model, as Istio's mirror would. It records what it sent and
// what came back, per version, so tests can hold Prometheus' counts against it.
import type { LabelledMessage } from '../../src/model/dataset.ts';
import { seededRandom } from '../../src/model/folds.ts';

export interface VersionTally {
  requests: number;
  /** Answers by HTTP status code. */
  byCode: Record<string, number>;
  /** 200 answers that said spam. */
  spam: number;
  /** Answers to requests that carried a guess, by whether the app said the guess was right. */
  guessesCorrect: number;
  guessesWrong: number;
}

export interface LoadTally {
  byVersion: Record<string, VersionTally>;
  /** The messages copied to the shadow, in order, each with the shadow's answer. */
  mirrored: Array<{ sms: string; shadowResult: string }>;
}

export interface SplitLoadOptions {
  /** Version → app base URL. */
  apps: Record<string, string>;
  /** Version → weight in percent (the VirtualService's weights). */
  weights: Record<string, number>;
  messages: readonly LabelledMessage[];
  requests: number;
  concurrency?: number;
  /** Every n-th request carries a guess: the message's true label (so some guesses fail where the model errs). */
  guessEvery?: number;
  /** Where the stable app's model calls are mirrored to, and which share of them. */
  mirror?: { version: string; shadowUrl: string; percent: number };
  seed?: number;
  /**
   * Requests started per second, at most (default: as fast as the workers go). The analysis reads
   * each version's counter at a common instant by interpolating between scrapes; a burst that
   * starts and ends within a scrape or two breaks that interpolation's steady-rate assumption and
   * looks like a broken split, so tests of the split pace their load as real traffic is paced.
   */
  requestsPerSecond?: number;
  /** Added to as it goes, so several phases can share one tally. */
  tally?: LoadTally;
}

export function emptyTally(versions: readonly string[]): LoadTally {
  return { byVersion: Object.fromEntries(versions.map((version) => [version, { requests: 0, byCode: {}, spam: 0, guessesCorrect: 0, guessesWrong: 0 }])), mirrored: [] };
}

export async function runSplitLoad(options: SplitLoadOptions): Promise<LoadTally> {
  const { apps, weights, messages, requests, concurrency = 8, guessEvery = 3, mirror, seed = 1, requestsPerSecond } = options;
  const versions = Object.keys(apps);
  const tally = options.tally ?? emptyTally(versions);
  const random = seededRandom(seed);
  const total = versions.reduce((sum, version) => sum + (weights[version] ?? 0), 0);
  // Decided up front, in order, so the split does not depend on which request finishes first.
  const plan = Array.from({ length: requests }, (_, index) => {
    let pick = random() * total;
    const version = versions.find((candidate) => (pick -= weights[candidate] ?? 0) < 0) ?? versions.at(-1) ?? '';
    const message = messages[Math.floor(random() * messages.length)] ?? { text: 'hello', label: 'ham' };
    return { version, message, guess: index % guessEvery === 0 ? message.label : undefined, mirrored: mirror !== undefined && version === mirror.version && random() * 100 < mirror.percent };
  });

  let next = 0;
  const startedAt = performance.now();
  async function worker(): Promise<void> {
    while (next < plan.length) {
      const index = next++;
      const item = plan[index];
      if (item === undefined) return;
      if (requestsPerSecond !== undefined) {
        const wait = startedAt + (index * 1_000) / requestsPerSecond - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
      const body = JSON.stringify(item.guess === undefined ? { sms: item.message.text } : { sms: item.message.text, guess: item.guess });
      const response = await fetch(`${apps[item.version]}/sms`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const answer = (await response.json()) as { result?: string; guessCorrect?: boolean };
      const counts = tally.byVersion[item.version] as VersionTally;
      counts.requests += 1;
      counts.byCode[String(response.status)] = (counts.byCode[String(response.status)] ?? 0) + 1;
      if (response.status === 200 && answer.result === 'spam') counts.spam += 1;
      if (response.status === 200 && answer.guessCorrect === true) counts.guessesCorrect += 1;
      if (response.status === 200 && answer.guessCorrect === false) counts.guessesWrong += 1;
      if (item.mirrored && mirror !== undefined) {
        const shadow = await fetch(`${mirror.shadowUrl}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sms: item.message.text }) });
        const shadowAnswer = (await shadow.json()) as { result: string };
        tally.mirrored.push({ sms: item.message.text, shadowResult: shadowAnswer.result });
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, () => worker()));
  return tally;
}
