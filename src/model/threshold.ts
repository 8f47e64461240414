// The decision threshold on the log-odds, chosen from out-of-fold scores of the training data only.
import { z } from 'zod';
import type { Label } from './dataset.ts';
import { mcc } from './scores.ts';

export const thresholdObjectiveSchema = z.discriminatedUnion('kind', [
  /** The threshold with the best Matthews correlation. */
  z.object({ kind: z.literal('best-mcc') }).strict(),
  /** The best Matthews correlation among thresholds that block at most this share of ham. */
  z.object({ kind: z.literal('best-mcc-capped-ham-blocked'), maxHamBlocked: z.number().min(0).max(1) }).strict(),
]);

export type ThresholdObjective = z.infer<typeof thresholdObjectiveSchema>;

export interface ScoredMessage {
  label: Label;
  logOdds: number;
}

/**
 * Sweeps every cut between distinct scores (highest first) and returns the midpoint of the best cut:
 * a message is spam when its log-odds exceed the returned value.
 */
export function tuneThreshold(scored: readonly ScoredMessage[], objective: ThresholdObjective): number {
  if (scored.length === 0) throw new Error('no scored messages to tune a threshold on');
  const sorted = [...scored].sort((a, b) => b.logOdds - a.logOdds);
  const spamTotal = sorted.filter((message) => message.label === 'spam').length;
  const hamTotal = sorted.length - spamTotal;
  const cap = objective.kind === 'best-mcc-capped-ham-blocked' ? objective.maxHamBlocked : 1;

  let bestCut = 0;
  let bestScore = -Infinity;
  let truePositives = 0;
  let falsePositives = 0;
  // cut = how many of the highest-scored messages are called spam.
  for (let cut = 0; cut <= sorted.length; cut += 1) {
    if (cut > 0) {
      if ((sorted[cut - 1] as ScoredMessage).label === 'spam') truePositives += 1;
      else falsePositives += 1;
    }
    const atBoundary = cut === 0 || cut === sorted.length || (sorted[cut - 1] as ScoredMessage).logOdds > (sorted[cut] as ScoredMessage).logOdds;
    if (!atBoundary) continue;
    if (hamTotal > 0 && falsePositives / hamTotal > cap) break;
    const score = mcc({
      truePositives,
      falsePositives,
      trueNegatives: hamTotal - falsePositives,
      falseNegatives: spamTotal - truePositives,
    });
    if (score > bestScore) {
      bestScore = score;
      bestCut = cut;
    }
  }
  const first = sorted[0] as ScoredMessage;
  const last = sorted[sorted.length - 1] as ScoredMessage;
  if (bestCut === 0) return first.logOdds + 1;
  if (bestCut === sorted.length) return last.logOdds - 1;
  return ((sorted[bestCut - 1] as ScoredMessage).logOdds + (sorted[bestCut] as ScoredMessage).logOdds) / 2;
}
