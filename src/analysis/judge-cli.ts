// npm run --silent analysis:judge < experiments.jsonl
// Reads JSON Lines (one experiment a line) on standard input and prints one JSON line per input
// line: per snapshot {verdict, pValue, rateRatio, interval, srmPValue}. The first bad line stops
// it with exit code 2 and a message naming the line and the field. docs/analysis.md has the format.
import { createInterface } from 'node:readline';
import { judgeLine } from './judge-input.ts';

const FLUSH_BYTES = 1 << 16;
const lines = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
let pending: string[] = [];
let pendingBytes = 0;
const flush = () => {
  if (pending.length > 0) process.stdout.write(pending.join(''));
  pending = [];
  pendingBytes = 0;
};

let lineNumber = 0;
for await (const line of lines) {
  lineNumber += 1;
  const result = judgeLine(line, lineNumber);
  if (!result.ok) {
    flush();
    process.stderr.write(`analysis:judge: ${result.error}\n`);
    process.exitCode = 2;
    lines.close();
    break;
  }
  pending.push(`${result.output}\n`);
  pendingBytes += result.output.length + 1;
  if (pendingBytes >= FLUSH_BYTES) flush();
}
flush();
