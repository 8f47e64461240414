// The model versions an experiment compares. A version name selects its features, smoothing and
// threshold objective; the choices come from cross-validation (docs/model.md, bench/model-features.ts).
import { z } from 'zod';
import type { FeatureSettings } from './features.ts';
import type { ThresholdObjective } from './threshold.ts';

export const MODEL_VERSIONS = ['v1', 'v2'] as const;
export const modelVersionSchema = z.enum(MODEL_VERSIONS, { error: () => `model version must be one of ${MODEL_VERSIONS.join(', ')}` });
export type ModelVersion = z.infer<typeof modelVersionSchema>;

export interface ModelPreset {
  version: ModelVersion;
  summary: string;
  features: FeatureSettings;
  alpha: number;
  threshold: ThresholdObjective;
}

const ALL_MARKERS = { currency: true, longDigits: true, url: true, allCaps: true, exclamation: true };

export const PRESETS: Readonly<Record<ModelVersion, ModelPreset>> = {
  v1: {
    version: 'v1',
    summary: 'stemmed words and SMS markers, once per message; best-MCC threshold blocking at most 0.2% of ham',
    features: { stem: true, bigrams: false, binary: true, numberWords: true, markers: ALL_MARKERS },
    alpha: 0.25,
    threshold: { kind: 'best-mcc-capped-ham-blocked', maxHamBlocked: 0.002 },
  },
  v2: {
    version: 'v2',
    summary: 'words, word pairs and SMS markers, once per message; best-MCC threshold blocking at most 0.1% of ham',
    features: { stem: false, bigrams: true, binary: true, numberWords: true, markers: ALL_MARKERS },
    alpha: 0.1,
    threshold: { kind: 'best-mcc-capped-ham-blocked', maxHamBlocked: 0.001 },
  },
};
