// npm run model:evaluate -- --data <labelled file> [--test <labelled file>] [--version v1|v2] [--seed N]
// Prints the evaluation protocols as a Markdown table:
//   (a) the dataset paper's split: first 30% of --data trains, the rest tests (file order);
//   (b) stratified 5-fold cross-validation on the de-duplicated messages of --data (mean of folds);
//   (c) with --test: train on all of --data, test on --test.
// Every decision threshold is tuned on the training part only.
import { z } from 'zod';
import { parseFlags, runCommand } from './cli.ts';
import { readDataset } from './dataset.ts';
import { crossValidation, paperSplit, trainTest, type ProtocolResult } from './evaluation.ts';
import { MODEL_VERSIONS, modelVersionSchema, PRESETS } from './presets.ts';
import { markdownTable, type ReportRow } from './report.ts';
import { DEFAULT_SEED } from './training.ts';

const USAGE = `Usage: npm run model:evaluate -- --data <file> [--test <file>] [--version <${MODEL_VERSIONS.join('|')}>] [--seed N]

  --data     labelled file, one "<ham|spam><TAB><message>" a line
  --test     second labelled file: adds protocol (c), train on --data and test on it
  --version  evaluate one model version (default: all)
  --seed     seed of the cross-validation shuffles (default ${DEFAULT_SEED})`;

const flagsSchema = z.object({
  data: z.string({ error: 'is required' }).min(1),
  test: z.string().min(1).optional(),
  version: modelVersionSchema.optional(),
  seed: z.coerce.number({ error: 'must be an integer' }).int('must be an integer').default(DEFAULT_SEED),
});

runCommand(async () => {
  const flags = parseFlags(
    process.argv.slice(2),
    { data: { type: 'string' }, test: { type: 'string' }, version: { type: 'string' }, seed: { type: 'string' } },
    flagsSchema,
    USAGE,
  );
  const data = await readDataset(flags.data);
  const test = flags.test === undefined ? undefined : await readDataset(flags.test);
  const rows: ReportRow[] = [];
  const notes: string[] = [];
  for (const version of flags.version === undefined ? MODEL_VERSIONS : [flags.version]) {
    const preset = PRESETS[version];
    const results: ProtocolResult[] = [paperSplit(data.messages, preset, flags.seed), crossValidation(data.messages, preset, flags.seed)];
    if (test !== undefined) results.push(trainTest(data.messages, test.messages, preset, flags.seed));
    for (const result of results) {
      rows.push({ version, result });
      notes.push(`${version} ${result.protocol}: ${result.description}${result.folds ? `; MCC per fold ${result.folds.map((fold) => fold.mcc.toFixed(3)).join(', ')}` : ''}`);
    }
  }
  const summary = `Data: ${data.messages.length} messages (sha256 ${data.sha256.slice(0, 12)}…)${test ? `; test file ${test.messages.length} messages` : '; protocol (c) needs --test'}. Seed ${flags.seed}.`;
  process.stdout.write(`${markdownTable(rows)}\n\n${summary}\n${notes.map((note) => `- ${note}\n`).join('')}`);
});
