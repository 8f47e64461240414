// Speed of the offline judge: generates experiments (cumulative counts of a 90/10 canary, some of
// them worse), pipes them through `npm run --silent analysis:judge` and times the whole command.
//   node bench/analysis-judge.ts [experiments=1000] [snapshots=500]
// Target (issue 15): 1,000 experiments of 500 snapshots in under 10 s.
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { binomial, poisson, seededRandom } from './random.ts';

const experiments = Number(process.argv[2] ?? '1000');
const snapshots = Number(process.argv[3] ?? '500');
const root = path.resolve(import.meta.dirname, '..');
const random = seededRandom(15);

function experimentLine(index: number): string {
  const stableRate = 0.002 + 0.02 * random.next();
  const canaryRate = index % 4 === 0 ? 2 * stableRate : stableRate;
  const counts = { stable: { trials: 0, events: 0 }, canary: { trials: 0, events: 0 } };
  const rows: string[] = [];
  for (let i = 0; i < snapshots; i += 1) {
    const requests = poisson(random, 200);
    const canary = binomial(random, requests, 0.1);
    counts.canary.trials += canary;
    counts.stable.trials += requests - canary;
    counts.canary.events += binomial(random, canary, canaryRate);
    counts.stable.events += binomial(random, requests - canary, stableRate);
    rows.push(JSON.stringify(counts));
  }
  return `{"alpha":0.05,"split":{"stable":90,"canary":10},"snapshots":[${rows.join(',')}]}\n`;
}

const directory = await mkdtemp(path.join(tmpdir(), 'analysis-judge-bench-'));
const input = path.join(directory, 'experiments.jsonl');
const text = Array.from({ length: experiments }, (_, index) => experimentLine(index)).join('');
await writeFile(input, text);

const started = performance.now();
const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
  const child = spawn('npm', ['run', '--silent', 'analysis:judge'], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
  child.on('error', reject);
  child.on('close', (exitCode) => resolve({ code: exitCode, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
  createReadStream(input).pipe(child.stdin);
});
const seconds = (performance.now() - started) / 1000;
await rm(directory, { recursive: true, force: true });

if (code !== 0) throw new Error(`analysis:judge exited with ${code}: ${stderr}`);
const outputLines = stdout.trimEnd().split('\n');
const judged = outputLines.map((line) => JSON.parse(line) as { verdict: string }[]);
if (judged.length !== experiments || judged.some((line) => line.length !== snapshots)) throw new Error('analysis:judge did not answer one line per experiment and one judgement per snapshot');
const verdicts = new Map<string, number>();
for (const line of judged) {
  const last = line.at(-1)?.verdict ?? 'none';
  verdicts.set(last, (verdicts.get(last) ?? 0) + 1);
}

process.stdout.write(`Node ${process.version}; input ${(text.length / 1e6).toFixed(1)} MB, output ${(stdout.length / 1e6).toFixed(1)} MB\n\n`);
process.stdout.write('| Experiments | Snapshots each | Command | Wall time | Snapshots/s | Target |\n| ---: | ---: | --- | ---: | ---: | --- |\n');
process.stdout.write(`| ${experiments} | ${snapshots} | npm run --silent analysis:judge | ${seconds.toFixed(2)} s | ${Math.round((experiments * snapshots) / seconds).toLocaleString('en')} | < 10 s for 1,000 × 500 |\n`);
process.stdout.write(`\nFinal verdicts (a quarter of the experiments have a canary at 2× the stable error rate): ${[...verdicts].map(([verdict, n]) => `${verdict} ${n}`).join(', ')}\n`);
