// npm run model:train -- --data <labelled file> --out <models dir> --version <v1|v2> [--seed N] [--created ISO]
// Writes <models dir>/<version>/model.json and metadata.json.
import { z } from 'zod';
import { trainToDirectory } from './build-artifact.ts';
import { parseFlags, runCommand } from './cli.ts';
import { readDataset } from './dataset.ts';
import { MODEL_VERSIONS, modelVersionSchema } from './presets.ts';
import { DEFAULT_SEED } from './training.ts';

const USAGE = `Usage: npm run model:train -- --data <file> --out <models dir> --version <${MODEL_VERSIONS.join('|')}> [--seed N] [--created ISO-8601]

  --data     labelled file, one "<ham|spam><TAB><message>" a line (e.g. the UCI SMSSpamCollection)
  --out      models directory; the artifact goes to <out>/<version>/
  --version  model version: selects the feature and threshold preset
  --seed     seed of the cross-validation shuffles (default ${DEFAULT_SEED})
  --created  creation time written to metadata.json (default: SOURCE_DATE_EPOCH, else now)`;

const flagsSchema = z.object({
  data: z.string({ error: 'is required' }).min(1),
  out: z.string({ error: 'is required' }).min(1),
  version: modelVersionSchema,
  seed: z.coerce.number({ error: 'must be an integer' }).int('must be an integer').default(DEFAULT_SEED),
  created: z.iso.datetime({ error: 'must be an ISO-8601 UTC time such as 2026-01-01T00:00:00Z' }).optional(),
});

function creationTime(flag: string | undefined): string {
  if (flag !== undefined) return flag;
  const epoch = process.env.SOURCE_DATE_EPOCH;
  if (epoch !== undefined && /^\d+$/.test(epoch)) return new Date(Number(epoch) * 1000).toISOString();
  return new Date().toISOString();
}

runCommand(async () => {
  const flags = parseFlags(
    process.argv.slice(2),
    { data: { type: 'string' }, out: { type: 'string' }, version: { type: 'string' }, seed: { type: 'string' }, created: { type: 'string' } },
    flagsSchema,
    USAGE,
  );
  const started = performance.now();
  const dataset = await readDataset(flags.data);
  const { directory, artifact } = await trainToDirectory({
    dataset,
    version: flags.version,
    seed: flags.seed,
    created: creationTime(flags.created),
    modelsDirectory: flags.out,
  });
  const { metadata } = artifact;
  const evaluation = metadata.evaluation;
  if (evaluation === null) throw new Error('the training command always evaluates');
  const cv = evaluation.figures;
  process.stdout.write(
    `Trained ${metadata.modelVersion} on ${metadata.dataset.messages} messages (${metadata.dataset.spam} spam) in ${((performance.now() - started) / 1000).toFixed(2)} s → ${directory}\n` +
      `  vocabulary ${metadata.model.vocabulary} tokens, model.json ${metadata.model.bytes} bytes, threshold ${metadata.threshold.logOdds.toFixed(3)} (log-odds)\n` +
      `  ${evaluation.protocol}: MCC ${cv.mcc.toFixed(4)}, spam caught ${(cv.spamCaught * 100).toFixed(1)}%, ham blocked ${(cv.hamBlocked * 100).toFixed(2)}%\n`,
  );
});
