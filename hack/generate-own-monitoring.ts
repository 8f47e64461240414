// Writes the operator's own dashboard ConfigMap and PrometheusRule into config/manager from
// src/operator/own-monitoring.ts (npm run generate runs it); --check writes nothing and exits 1 when
// a committed file differs, naming it.
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { OWN_MONITORING_FILES } from '../src/operator/own-monitoring.ts';

const repositoryRoot = resolve(import.meta.dirname, '..');
const check = process.argv.includes('--check');
for (const [file, generate] of Object.entries(OWN_MONITORING_FILES)) {
  const target = resolve(repositoryRoot, file);
  const text = generate();
  if (check) {
    const committed = await readFile(target, 'utf8').catch(() => undefined);
    if (committed !== text) {
      console.error(`${file} ${committed === undefined ? 'is missing' : 'differs from what src/operator/own-monitoring.ts generates'}: run \`npm run generate\` and commit the result.`);
      process.exitCode = 1;
    } else {
      console.log(`${file} is up to date.`);
    }
  } else {
    await writeFile(target, text);
    console.log(`wrote ${file}`);
  }
}
