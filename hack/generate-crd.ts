// npm run generate: writes the SmsExperiment CRD built from the zod schema.
// npm run generate -- --check: writes nothing, exits 1 when the committed CRD is not what the schema
// generates (for CI and for anyone unsure whether they regenerated).
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { CRD_FILE, renderCrdYaml } from '../src/crd/crd.ts';

const repositoryRoot = resolve(import.meta.dirname, '..');
const target = resolve(repositoryRoot, CRD_FILE);
const generated = renderCrdYaml();

async function readCommitted(): Promise<string | undefined> {
  try {
    return await readFile(target, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

if (process.argv.includes('--check')) {
  const committed = await readCommitted();
  if (committed !== generated) {
    const problem = committed === undefined ? 'is missing' : 'differs from what src/crd/schema.ts generates';
    console.error(`${CRD_FILE} ${problem}: run \`npm run generate\` and commit the result.`);
    process.exitCode = 1;
  } else {
    console.log(`${CRD_FILE} is up to date.`);
  }
} else {
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, generated);
  console.log(`wrote ${CRD_FILE}`);
}
