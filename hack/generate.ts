// npm run generate [-- --check]: every generated file, each generator given the same flags: the CRD
// from src/crd/schema.ts and the operator's own dashboard and alerts from src/operator/own-monitoring.ts.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

let failed = false;
for (const script of ['generate-crd.ts', 'generate-own-monitoring.ts']) {
  const result = spawnSync(process.execPath, [resolve(import.meta.dirname, script), ...process.argv.slice(2)], { stdio: 'inherit' });
  failed ||= result.status !== 0;
}
process.exitCode = failed ? 1 : 0;
