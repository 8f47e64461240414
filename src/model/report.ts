// Markdown tables of evaluation figures: what the evaluation command prints and the README shows.
import type { ProtocolResult } from './evaluation.ts';

const percent = (value: number, digits = 1) => `${(value * 100).toFixed(digits)}%`;

export interface ReportRow {
  version: string;
  result: ProtocolResult;
}

export function markdownTable(rows: readonly ReportRow[]): string {
  const header = '| Version | Protocol | Test messages | Accuracy | Spam caught | Ham blocked | Precision | F1 | MCC |';
  const rule = '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |';
  const lines = rows.map(({ version, result }) => {
    const f = result.figures;
    return `| ${version} | ${result.protocol} | ${f.messages} | ${percent(f.accuracy, 2)} | ${percent(f.spamCaught)} | ${percent(f.hamBlocked, 2)} | ${percent(f.precision, 1)} | ${f.f1.toFixed(3)} | ${f.mcc.toFixed(3)} |`;
  });
  return [header, rule, ...lines].join('\n');
}
