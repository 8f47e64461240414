// The Dockerfile's three images checked without Docker: each target's entry point, followed through
// every import Node will load at run time, stays inside the source folders that target copies and
// needs only production dependencies (the image installs no others); and the images' numeric user is
// the one the operator's pods and the operator Deployment run as.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { RUN_AS_ID } from '../../src/operator/render/workloads.ts';

const repositoryRoot = path.resolve(import.meta.dirname, '../..');

interface Target {
  name: string;
  from: string;
  /** Source folders copied into this stage, relative to the repository root. */
  copied: string[];
  entryPoint: string[] | undefined;
  user: string | undefined;
}

/** The stages of the Dockerfile, each with what it inherits from its parent stage. */
async function dockerfileTargets(): Promise<Map<string, Target>> {
  const text = await readFile(path.join(repositoryRoot, 'Dockerfile'), 'utf8');
  const targets = new Map<string, Target>();
  let current: Target | undefined;
  for (const line of text.replace(/\\\n/g, ' ').split('\n')) {
    const from = /^FROM\s+(\S+)\s+AS\s+(\S+)/i.exec(line);
    if (from?.[1] && from[2]) {
      const parent = targets.get(from[1]);
      current = { name: from[2], from: from[1], copied: [...(parent?.copied ?? [])], entryPoint: parent?.entryPoint, user: parent?.user };
      targets.set(current.name, current);
      continue;
    }
    if (!current) continue;
    const copy = /^COPY\s+(?!--from)(src\/\S+)\s+\S+$/.exec(line);
    if (copy?.[1]) current.copied.push(copy[1].replace(/\/$/, ''));
    const entry = /^ENTRYPOINT\s+(\[.*\])\s*$/.exec(line);
    if (entry?.[1]) current.entryPoint = z.array(z.string()).parse(JSON.parse(entry[1]));
    const user = /^USER\s+(\S+)/.exec(line);
    if (user?.[1]) current.user = user[1];
  }
  return targets;
}

// Statements Node loads at run time: `import type` and `export type` are erased by type stripping.
const STATIC_IMPORT = /^\s*(?:import|export)\s+(type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?'([^']+)'/gm;
const CALL_IMPORT = /\b(?:import|require)\(\s*'([^']+)'\s*\)/g;

function runtimeSpecifiers(source: string): string[] {
  const specifiers: string[] = [];
  for (const match of source.matchAll(STATIC_IMPORT)) if (!match[1] && match[2]) specifiers.push(match[2]);
  for (const match of source.matchAll(CALL_IMPORT)) if (match[1]) specifiers.push(match[1]);
  return specifiers;
}

const packageName = (specifier: string) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');

/** Walks the module graph from an entry point; returns problems as readable lines. */
async function checkImageSources(target: Target, productionDependencies: ReadonlySet<string>): Promise<string[]> {
  const problems: string[] = [];
  const entry = target.entryPoint?.[1];
  if (!entry) return [`${target.name}: no ENTRYPOINT ["node", "<file>"]`];
  const queue = [path.join(repositoryRoot, entry)];
  const seen = new Set<string>();
  const inside = (file: string) => target.copied.some((folder) => file.startsWith(path.join(repositoryRoot, folder) + path.sep));
  while (queue.length > 0) {
    const file = queue.pop() ?? '';
    if (seen.has(file)) continue;
    seen.add(file);
    const relative = path.relative(repositoryRoot, file);
    if (!inside(file)) {
      problems.push(`${target.name}: ${relative} is loaded but not copied into the image (COPY ${target.copied.join(', ')})`);
      continue;
    }
    const source = await readFile(file, 'utf8').catch(() => undefined);
    if (source === undefined) {
      problems.push(`${target.name}: ${relative} does not exist`);
      continue;
    }
    for (const specifier of runtimeSpecifiers(source)) {
      if (specifier.startsWith('.')) {
        queue.push(path.resolve(path.dirname(file), specifier));
      } else if (!specifier.startsWith('node:') && !builtinModules.includes(specifier) && !productionDependencies.has(packageName(specifier))) {
        problems.push(`${target.name}: ${relative} imports ${specifier}, which is not a production dependency`);
      }
    }
  }
  return problems;
}

describe('Dockerfile images', () => {
  const expectedTargets = {
    operator: 'src/operator/main.ts',
    app: 'src/app/main.ts',
    model: 'src/model/main.ts',
  };

  it('builds the operator, app and model targets on one shared runtime stage, each running node <component>/main.ts', async () => {
    const targets = await dockerfileTargets();
    for (const [name, main] of Object.entries(expectedTargets)) {
      const target = targets.get(name);
      assert.ok(target, `target ${name}`);
      assert.equal(target.from, 'runtime', `${name} builds on the shared runtime stage`);
      assert.deepEqual(target.entryPoint, ['node', main]);
    }
  });

  it('loads nothing at run time that its target does not copy, and only production dependencies', async () => {
    const packageJson = z.looseObject({ dependencies: z.record(z.string(), z.string()) }).parse(JSON.parse(await readFile(path.join(repositoryRoot, 'package.json'), 'utf8')));
    const production = new Set(Object.keys(packageJson.dependencies));
    const targets = await dockerfileTargets();
    const problems: string[] = [];
    for (const name of Object.keys(expectedTargets)) {
      const target = targets.get(name);
      assert.ok(target);
      problems.push(...(await checkImageSources(target, production)));
    }
    assert.deepEqual(problems, []);
  });

  it('finds a missing COPY (the check above can fail)', async () => {
    const targets = await dockerfileTargets();
    const operator = targets.get('operator');
    assert.ok(operator);
    const problems = await checkImageSources({ ...operator, copied: ['src/operator'] }, new Set(['zod', 'pino', 'prom-client', 'yaml', '@kubernetes/client-node']));
    assert.ok(problems.some((problem) => problem.includes('src/crd/') && problem.includes('not copied')), problems.join('\n'));
  });

  it('runs as the numeric user the operator gives its pods and the operator Deployment', async () => {
    const user = (await dockerfileTargets()).get('runtime')?.user;
    assert.equal(user, `${RUN_AS_ID}:${RUN_AS_ID}`);
    const manager = z
      .looseObject({ spec: z.looseObject({ template: z.looseObject({ spec: z.looseObject({ securityContext: z.looseObject({ runAsUser: z.number(), runAsGroup: z.number() }) }) }) }) })
      .parse(parse(await readFile(path.join(repositoryRoot, 'config/manager/manager.yaml'), 'utf8')));
    const context = manager.spec.template.spec.securityContext;
    assert.deepEqual([context.runAsUser, context.runAsGroup], [RUN_AS_ID, RUN_AS_ID]);
  });
});
