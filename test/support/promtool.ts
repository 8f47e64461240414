// `promtool test rules` for tests: Debian's promtool (package "prometheus", which hack/test.sh
// installs) on rule files and one unit-test file written to a temporary directory.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';

const execFileAsync = promisify(execFile);
export const PROMTOOL = process.env.SMSX_PROMTOOL ?? '/usr/bin/promtool';

/** Runs `promtool test rules` on one test file; resolves with its output, whether it passed or not. */
export async function promtoolTestRules(ruleFiles: Record<string, string>, tests: unknown): Promise<{ passed: boolean; output: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'promtool-test-'));
  try {
    for (const [name, text] of Object.entries(ruleFiles)) await writeFile(path.join(dir, name), text);
    const testFile = path.join(dir, 'tests.yaml');
    await writeFile(testFile, stringify({ rule_files: Object.keys(ruleFiles), ...(tests as object) }));
    try {
      const { stdout, stderr } = await execFileAsync(PROMTOOL, ['test', 'rules', testFile], { cwd: dir });
      return { passed: true, output: `${stdout}${stderr}`.trim() };
    } catch (error) {
      const failure = error as { stdout?: string; stderr?: string; message: string };
      return { passed: false, output: `${failure.stdout ?? ''}${failure.stderr ?? failure.message}`.trim() };
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

