// src/analysis is pure statistics: the linter refuses imports from the programs, and no file but
// the command's entry point touches I/O or the clock.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ESLint } from 'eslint';

const root = path.resolve(import.meta.dirname, '../../..');
const analysis = path.join(root, 'src/analysis');
const RULE = 'import-x/no-restricted-paths';

describe('analysis: purity', function () {
  this.timeout(120_000);

  it('the linter refuses an import from the operator', async () => {
    const eslint = new ESLint({ cwd: root, ruleFilter: ({ ruleId }) => ruleId === RULE });
    const filePath = path.join(analysis, 'signal.ts');
    const source = await readFile(filePath, 'utf8');
    const [result] = await eslint.lintText(`import '../operator/kube/objects.ts';\n${source}`, { filePath });
    const errors = (result?.messages ?? []).filter((m) => m.ruleId === RULE);
    assert.equal(errors.length, 1, JSON.stringify(result?.messages));
    assert.match(errors[0]?.message ?? '', /src\/analysis is pure statistics/);
  });

  it('only the command entry point uses Node modules, and no file reads the clock or randomness', async () => {
    const files = (await readdir(analysis)).filter((file) => file.endsWith('.ts'));
    assert.ok(files.includes('signal.ts') && files.includes('judge-cli.ts'));
    for (const file of files) {
      const source = await readFile(path.join(analysis, file), 'utf8');
      if (file !== 'judge-cli.ts') assert.doesNotMatch(source, /from 'node:/, file);
      assert.doesNotMatch(source, /Date\.now|new Date|performance\.now|Math\.random|process\.hrtime/, file);
    }
  });
});
