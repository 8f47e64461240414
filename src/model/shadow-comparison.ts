// A shadow's comparison with the stable model: the same message classified by both (the models
// are deterministic, so the stable pod would have answered the same), the pair counted, and each
// disagreement logged with a hash of the message instead of its text.
import type { Logger } from 'pino';
import { sha256, type LoadedModel } from './artifact.ts';
import type { ModelMetrics } from './service-metrics.ts';

export interface ShadowAnswer {
  version: string;
  result: 'spam' | 'ham';
  spamProbability: number;
}

export function compareWithStable(sms: string, shadow: ShadowAnswer, stable: LoadedModel, metrics: ModelMetrics, logger: Logger): void {
  const stableAnswer = stable.classifier.predict(sms);
  const stableVersion = stable.metadata.modelVersion;
  metrics.countComparison({ version: shadow.version, stableVersion, stableResult: stableAnswer.result, shadowResult: shadow.result });
  if (stableAnswer.result === shadow.result) return;
  logger.info(
    {
      smsSha256: sha256(sms),
      version: shadow.version,
      shadowResult: shadow.result,
      shadowSpamProbability: shadow.spamProbability,
      stableVersion,
      stableResult: stableAnswer.result,
      stableSpamProbability: stableAnswer.spamProbability,
    },
    'Shadow disagreed with stable',
  );
}
