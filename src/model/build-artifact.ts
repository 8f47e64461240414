// Training data → artifact contents (model text and metadata), shared by the training command, the
// test support and the benchmarks.
import path from 'node:path';
import { serializeModel, sha256, writeArtifact, type Metadata } from './artifact.ts';
import type { Dataset } from './dataset.ts';
import { crossValidation } from './evaluation.ts';
import { PRESETS, type ModelVersion } from './presets.ts';
import { THRESHOLD_FOLDS, THRESHOLD_REPEATS, train } from './training.ts';

export interface BuildOptions {
  dataset: Dataset;
  version: ModelVersion;
  seed: number;
  /** ISO timestamp for metadata.json; it never enters model.json. */
  created: string;
  /** Cross-validate for metadata's evaluation figures (the expensive part; on by default). */
  evaluate?: boolean;
}

export interface BuiltArtifact {
  modelText: string;
  metadata: Metadata;
}

export function buildArtifact({ dataset, version, seed, created, evaluate = true }: BuildOptions): BuiltArtifact {
  const preset = PRESETS[version];
  const trained = train(dataset.messages, preset, seed);
  const modelText = serializeModel(trained);
  const spam = dataset.messages.filter((message) => message.label === 'spam').length;
  const evaluation = evaluate
    ? (() => {
        const result = crossValidation(dataset.messages, preset, seed);
        return { protocol: `${result.protocol}: ${result.description}`, figures: result.figures };
      })()
    : null;
  const metadata: Metadata = {
    formatVersion: 1,
    modelVersion: version,
    classifier: 'naive-bayes',
    summary: preset.summary,
    created,
    seed,
    dataset: {
      file: path.basename(dataset.source),
      sha256: dataset.sha256,
      messages: dataset.messages.length,
      spam,
      ham: dataset.messages.length - spam,
    },
    features: preset.features,
    alpha: preset.alpha,
    threshold: {
      logOdds: trained.threshold,
      objective: preset.threshold,
      tunedOn: `out-of-fold scores of ${THRESHOLD_REPEATS} × ${THRESHOLD_FOLDS}-fold cross-validation on the training data`,
    },
    model: { file: 'model.json', sha256: sha256(modelText), bytes: Buffer.byteLength(modelText), vocabulary: trained.counts.vocabulary.length },
    evaluation,
  };
  return { modelText, metadata };
}

/** Builds and writes `<modelsDirectory>/<version>/`; returns that directory. */
export async function trainToDirectory(options: BuildOptions & { modelsDirectory: string }): Promise<{ directory: string; artifact: BuiltArtifact }> {
  const artifact = buildArtifact(options);
  const directory = path.join(options.modelsDirectory, options.version);
  await writeArtifact(directory, artifact.modelText, artifact.metadata);
  return { directory, artifact };
}
