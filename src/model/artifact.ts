// The versioned artifact directory: model.json (token counts, features, threshold; no training
// text) and metadata.json (provenance, settings, evaluation figures, the model file's sha256).
// model.json depends only on the data, preset and seed, so it is byte-identical across runs; the
// creation time lives in metadata.json. Loading checks everything before anything is used, so a
// service either has the whole model or none of it.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { featureSettingsSchema } from './features.ts';
import type { NaiveBayesCounts, TokenCounts } from './naive-bayes.ts';
import { thresholdObjectiveSchema } from './threshold.ts';
import { SpamClassifier, type TrainedModel } from './training.ts';

export const FORMAT_VERSION = 1;
export const MODEL_FILE = 'model.json';
export const METADATA_FILE = 'metadata.json';

const count = z.number().int().nonnegative();
const unit = z.number().min(0).max(1);

const figuresSchema = z
  .object({ messages: count, accuracy: unit, spamCaught: unit, hamBlocked: unit, precision: unit, f1: unit, mcc: z.number().min(-1).max(1) })
  .strict();

// The format version is checked on its own first, so a newer artifact is reported as such
// rather than as a pile of schema errors.
const formatProbeSchema = z.object({ formatVersion: z.number() }).loose();

export const modelFileSchema = z
  .object({
    formatVersion: z.literal(FORMAT_VERSION),
    classifier: z.literal('naive-bayes'),
    features: featureSettingsSchema,
    alpha: z.number().positive(),
    binary: z.boolean(),
    threshold: z.number().finite(),
    documents: z.object({ spam: count.positive(), ham: count.positive() }).strict(),
    vocabulary: z.array(z.tuple([z.string().min(1), count, count])).min(1),
  })
  .strict();

export const metadataSchema = z
  .object({
    formatVersion: z.literal(FORMAT_VERSION),
    modelVersion: z.string().min(1),
    classifier: z.literal('naive-bayes'),
    summary: z.string(),
    created: z.iso.datetime(),
    seed: z.number().int(),
    dataset: z.object({ file: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/), messages: count, spam: count, ham: count }).strict(),
    features: featureSettingsSchema,
    alpha: z.number().positive(),
    threshold: z.object({ logOdds: z.number().finite(), objective: thresholdObjectiveSchema, tunedOn: z.string() }).strict(),
    model: z.object({ file: z.literal(MODEL_FILE), sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: count, vocabulary: count }).strict(),
    /** null when trained without evaluation (test support); the training command always evaluates. */
    evaluation: z.object({ protocol: z.string(), figures: figuresSchema }).strict().nullable(),
  })
  .strict();

export type ModelFile = z.infer<typeof modelFileSchema>;
export type Metadata = z.infer<typeof metadataSchema>;

export class ArtifactError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArtifactError';
  }
}

const byToken = (a: TokenCounts, b: TokenCounts) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/** model.json's text: sorted by token, so it reads well and diffs between trainings stay small. */
export function serializeModel(model: TrainedModel): string {
  const file: ModelFile = {
    formatVersion: FORMAT_VERSION,
    classifier: 'naive-bayes',
    features: model.features,
    alpha: model.counts.alpha,
    binary: model.counts.binary,
    threshold: model.threshold,
    documents: model.counts.documents,
    vocabulary: [...model.counts.vocabulary].sort(byToken),
  };
  return `${JSON.stringify(file)}\n`;
}

export const sha256 = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');

/** Writes both files through temporary names, so a reader never sees half an artifact. */
export async function writeArtifact(directory: string, modelText: string, metadata: Metadata): Promise<void> {
  await mkdir(directory, { recursive: true });
  for (const [name, text] of [[MODEL_FILE, modelText], [METADATA_FILE, `${JSON.stringify(metadata, null, 2)}\n`]] as const) {
    const target = path.join(directory, name);
    await writeFile(`${target}.tmp`, text);
    await rename(`${target}.tmp`, target);
  }
}

export interface LoadedModel {
  classifier: SpamClassifier;
  metadata: Metadata;
}

function problems(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ArtifactError(`${what} is not valid JSON (${(error as Error).message})`);
  }
}

function checkFormatVersion(value: unknown, what: string): void {
  const probe = formatProbeSchema.safeParse(value);
  if (!probe.success) throw new ArtifactError(`${what} has no numeric formatVersion`);
  if (probe.data.formatVersion !== FORMAT_VERSION) {
    throw new ArtifactError(`${what} has unknown format version ${probe.data.formatVersion} (this service reads format version ${FORMAT_VERSION})`);
  }
}

/** Parses and cross-checks the two files' contents; throws ArtifactError naming the first problem. */
export function parseArtifact(modelBytes: Buffer, metadataText: string, where: string): LoadedModel {
  const metadataName = `${where}/${METADATA_FILE}`;
  const modelName = `${where}/${MODEL_FILE}`;
  const metadataJson = parseJson(metadataText, metadataName);
  checkFormatVersion(metadataJson, metadataName);
  const metadata = metadataSchema.safeParse(metadataJson);
  if (!metadata.success) throw new ArtifactError(`${metadataName} is invalid: ${problems(metadata.error)}`);

  const digest = sha256(modelBytes);
  if (digest !== metadata.data.model.sha256) {
    throw new ArtifactError(`${modelName} is corrupt: sha256 ${digest.slice(0, 12)}… does not match ${metadata.data.model.sha256.slice(0, 12)}… recorded in ${METADATA_FILE}`);
  }
  const modelJson = parseJson(modelBytes.toString('utf8'), modelName);
  checkFormatVersion(modelJson, modelName);
  const model = modelFileSchema.safeParse(modelJson);
  if (!model.success) throw new ArtifactError(`${modelName} is invalid: ${problems(model.error)}`);

  const { features, alpha, binary, threshold, documents, vocabulary } = model.data;
  const counts: NaiveBayesCounts = { alpha, binary, documents, vocabulary };
  return { classifier: new SpamClassifier({ features, counts, threshold }), metadata: metadata.data };
}

async function readArtifactFile(directory: string, name: string): Promise<Buffer> {
  try {
    return await readFile(path.join(directory, name));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ArtifactError(`${path.join(directory, name)} does not exist`);
    throw new ArtifactError(`cannot read ${path.join(directory, name)}: ${(error as Error).message}`);
  }
}

export async function loadArtifact(directory: string): Promise<LoadedModel> {
  const metadata = await readArtifactFile(directory, METADATA_FILE);
  const model = await readArtifactFile(directory, MODEL_FILE);
  return parseArtifact(model, metadata.toString('utf8'), directory);
}
