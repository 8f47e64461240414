// The operator's layers are enforced by the linter: a wrong import fails `npm run lint` with a
// message naming the rule. These cases lint real files of each layer with one import added.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ESLint } from 'eslint';

const root = path.resolve(import.meta.dirname, '../../..');
const RULE = 'import-x/no-restricted-paths';

async function lintWithImport(file: string, importLine: string): Promise<ESLint.LintResult['messages']> {
  const eslint = new ESLint({ cwd: root, ruleFilter: ({ ruleId }) => ruleId === RULE });
  const filePath = path.join(root, file);
  const source = await readFile(filePath, 'utf8');
  const [result] = await eslint.lintText(`${importLine}\n${source}`, { filePath });
  return result?.messages ?? [];
}

describe('operator layers (lint)', function () {
  this.timeout(120_000);

  const refused: [string, string, string, RegExp][] = [
    ['render/ importing controller/', 'src/operator/render/istio.ts', "import '../controller/reconciler.ts';", /render\/ is pure/],
    ['apply/ importing the SmsExperiment schema', 'src/operator/apply/live-diff.ts', "import '../../crd/schema.ts';", /apply\/ knows no SmsExperiment/],
    ['kube/ importing render/', 'src/operator/kube/resources.ts', "import '../render/kinds.ts';", /kube\/ is the lowest layer/],
    ['runtime/ importing apply/', 'src/operator/runtime/events.ts', "import '../apply/applier.ts';", /runtime\/ may import kube\/ only/],
    ['controller/ importing the wiring', 'src/operator/controller/status.ts', "import '../operator.ts';", /controller\/ may not import the entry point/],
    ['prometheus/ importing controller/', 'src/operator/prometheus/collect.ts', "import '../controller/status.ts';", /prometheus\/ is a client of its own/],
    ['prometheus/ importing the SmsExperiment schema', 'src/operator/prometheus/signals.ts', "import '../../crd/schema.ts';", /prometheus\/ knows no SmsExperiment/],
    ['the app importing the operator', 'src/app/cache.ts', "import '../operator/kube/objects.ts';", /do not import the operator/],
  ];
  for (const [what, file, importLine, message] of refused) {
    it(`refuses ${what}`, async () => {
      const messages = await lintWithImport(file, importLine);
      const layerErrors = messages.filter((m) => m.ruleId === RULE);
      assert.equal(layerErrors.length, 1, JSON.stringify(messages));
      assert.match(layerErrors[0]?.message ?? '', message);
      assert.equal(layerErrors[0]?.line, 1);
    });
  }

  it('accepts imports that point down', async () => {
    const messages = await lintWithImport('src/operator/controller/status.ts', "import '../render/index.ts';\nimport '../apply/applier.ts';\nimport '../kube/objects.ts';");
    assert.deepEqual(messages.filter((m) => m.ruleId === RULE), []);
  });
});
