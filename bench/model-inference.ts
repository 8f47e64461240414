// In-process speed of the model: training time on the shared SMS Spam Collection, artifact size and
// load time, predictions per second on one core, and per-message latency percentiles.
//   node bench/model-inference.ts [seconds per version=3]
// Targets (issue): ≥ 20,000 predictions/s, p99 ≤ 200 µs, training ≤ 2 s, artifact ≤ 1 MB.
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadArtifact, METADATA_FILE, MODEL_FILE } from '../src/model/artifact.ts';
import { trainToDirectory } from '../src/model/build-artifact.ts';
import { readDataset, sharedTrainingFile } from '../src/model/dataset.ts';
import { MAX_BODY_BYTES } from '../src/model/app.ts';
import { MODEL_VERSIONS, PRESETS } from '../src/model/presets.ts';
import { DEFAULT_SEED, train } from '../src/model/training.ts';

const seconds = Number(process.argv[2] ?? '3');
const file = sharedTrainingFile();
if (!existsSync(file)) {
  process.stderr.write(`The shared SMS Spam Collection is not at ${file} (set SMS_DATA_DIR); the benchmark needs it.\n`);
  process.exit(1);
}
const dataset = await readDataset(file);
const texts = dataset.messages.map((message) => message.text);
const directory = await mkdtemp(path.join(tmpdir(), 'sms-model-bench-'));

const quantile = (sorted: readonly number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
const median = (values: number[]) => quantile([...values].sort((a, b) => a - b), 0.5);
const time = (work: () => void) => {
  const started = performance.now();
  work();
  return performance.now() - started;
};

process.stdout.write(`Node ${process.version}, ${dataset.messages.length} messages (${texts.reduce((sum, text) => sum + text.length, 0) / texts.length | 0} characters on average), one thread\n\n`);
process.stdout.write('| Version | Training (fit + threshold) | Training command (+ CV figures) | Artifact (both files) | Load | Predictions/s | p50 | p99 | max | 10 kB message |\n');
process.stdout.write('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n');
for (const version of MODEL_VERSIONS) {
  const preset = PRESETS[version];
  train(dataset.messages, preset); // warm-up (JIT, stem cache as a service would have it)
  const trainingMs = median(Array.from({ length: 5 }, () => time(() => train(dataset.messages, preset, DEFAULT_SEED))));
  const commandStarted = performance.now();
  const { directory: artifact } = await trainToDirectory({ dataset, version, seed: DEFAULT_SEED, created: new Date().toISOString(), modelsDirectory: directory });
  const commandMs = performance.now() - commandStarted;
  const bytes = (await stat(path.join(artifact, MODEL_FILE))).size + (await stat(path.join(artifact, METADATA_FILE))).size;
  const loadStarted = performance.now();
  const { classifier } = await loadArtifact(artifact);
  const loadMs = performance.now() - loadStarted;

  // Throughput: every message of the file in turn, for `seconds`.
  let predictions = 0;
  let spam = 0;
  const throughputStarted = performance.now();
  const deadline = throughputStarted + seconds * 1000;
  while (performance.now() < deadline) {
    for (const text of texts) if (classifier.predict(text).result === 'spam') spam += 1;
    predictions += texts.length;
  }
  const perSecond = predictions / ((performance.now() - throughputStarted) / 1000);

  // Latency: each message timed on its own, twice over the file.
  const latencies: number[] = [];
  for (let round = 0; round < 2; round += 1) {
    for (const text of texts) {
      const started = process.hrtime.bigint();
      classifier.predict(text);
      latencies.push(Number(process.hrtime.bigint() - started) / 1000);
    }
  }
  latencies.sort((a, b) => a - b);
  const longest = 'Call 09050001234 now to claim your £1000 prize! '.repeat(Math.floor(MAX_BODY_BYTES / 50));
  const longestUs = median(Array.from({ length: 21 }, () => time(() => classifier.predict(longest)) * 1000));

  process.stdout.write(
    `| ${version} | ${trainingMs.toFixed(0)} ms | ${commandMs.toFixed(0)} ms | ${(bytes / 1024).toFixed(0)} KiB | ${loadMs.toFixed(0)} ms | ${Math.round(perSecond).toLocaleString('en-US')} | ${quantile(latencies, 0.5).toFixed(1)} µs | ${quantile(latencies, 0.99).toFixed(1)} µs | ${(latencies.at(-1) ?? NaN).toFixed(0)} µs | ${longestUs.toFixed(0)} µs |\n`,
  );
  if (spam < 0) process.stdout.write('unreachable: keeps the predictions from being optimised away\n');
}
await rm(directory, { recursive: true, force: true });
