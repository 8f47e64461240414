// node hack/generate-bundle.ts: writes dist/install.yaml, the single-file install bundle (CRD, RBAC,
// namespace, operator Deployment, metrics Service and ServiceMonitor), built from config/default by
// the kustomize inside the project's pinned kubectl, so the bundle is exactly what
// `kubectl apply -k config/default` applies.
// node hack/generate-bundle.ts --check: writes nothing, exits 1 when the committed bundle differs
// (the install-bundle integration test runs it).
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadToolchain } from './cluster/toolchain.ts';

export const BUNDLE_FILE = 'dist/install.yaml';

const repositoryRoot = path.resolve(import.meta.dirname, '..');

const HEADER = `# The SMS experiment operator in one file: the SmsExperiment CRD, the operator's namespace,
# ServiceAccount and least-privilege RBAC, its Deployment, metrics Service and ServiceMonitor.
#   kubectl apply -f ${BUNDLE_FILE}
# Needs the Istio and prometheus-operator CRDs in the cluster first (docs/install.md).
# Generated from config/default by hack/generate-bundle.ts: edit config/, then regenerate.
`;

/** `kubectl kustomize config/default`: what the bundle and the Helm chart (hack/generate-chart.ts) are made of. */
export async function kustomizeDefault(kubectl: string): Promise<string> {
  const { stdout } = await promisify(execFile)(kubectl, ['kustomize', path.join(repositoryRoot, 'config/default')], {
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

/** The bundle's text: the header, then `kubectl kustomize config/default`. */
export async function renderBundle(kubectl: string): Promise<string> {
  return `${HEADER}---\n${await kustomizeDefault(kubectl)}`;
}

async function main(): Promise<void> {
  const generated = await renderBundle((await loadToolchain()).kubectl);
  const target = path.join(repositoryRoot, BUNDLE_FILE);
  if (process.argv.includes('--check')) {
    const committed = await readFile(target, 'utf8').catch(() => undefined);
    if (committed !== generated) {
      const problem = committed === undefined ? 'is missing' : 'differs from what config/default builds';
      console.error(`${BUNDLE_FILE} ${problem}: run \`node hack/generate-bundle.ts\` and commit the result.`);
      process.exitCode = 1;
    } else {
      console.log(`${BUNDLE_FILE} is up to date.`);
    }
    return;
  }
  await mkdir(path.dirname(target), { recursive: true });
  await writeFile(target, generated);
  console.log(`wrote ${BUNDLE_FILE}`);
}

if (import.meta.main) await main();
