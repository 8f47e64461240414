// Reads a V8 heap snapshot (bench/scale.ts writes one with SMSX_BENCH_HEAP_SNAPSHOT=<file>) and says
// what the heap is made of: the Kubernetes objects it holds, per kind (count, bytes, bytes per object),
// and the largest node classes overall.
//
// A Kubernetes object is a JS object with `apiVersion`, `kind` (a string) and `metadata` properties.
// Its size is the self size of everything reachable from it through properties, elements and the
// backing stores of both (not maps, prototypes or code): JSON-shaped data is a tree, so that is what
// it retains, except for what it shares (a zod copy shares unknown fields with the object it was
// parsed from). Each node is counted once, for the first object that reaches it, objects visited
// largest kind first — so shared parts go to one of their holders, never to both.
// Usage: node --max-old-space-size=4096 bench/heap-summary.ts <file.heapsnapshot>
import { readFile } from 'node:fs/promises';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]]; edge_fields: string[]; edge_types: [string[], ...unknown[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

const file = process.argv[2];
if (!file) throw new Error('usage: node bench/heap-summary.ts <file.heapsnapshot>');
const heap = JSON.parse(await readFile(file, 'utf8')) as Snapshot;
const { meta } = heap.snapshot;
const nodeFieldCount = meta.node_fields.length;
const edgeFieldCount = meta.edge_fields.length;
const field = (name: string, fields: string[]) => {
  const index = fields.indexOf(name);
  if (index === -1) throw new Error(`heap snapshot without ${name}`);
  return index;
};
const TYPE = field('type', meta.node_fields);
const NAME = field('name', meta.node_fields);
const SELF_SIZE = field('self_size', meta.node_fields);
const EDGE_COUNT = field('edge_count', meta.node_fields);
const EDGE_TYPE = field('type', meta.edge_fields);
const EDGE_NAME = field('name_or_index', meta.edge_fields);
const EDGE_TO = field('to_node', meta.edge_fields);
const nodeTypes = meta.node_types[0];
const edgeTypes = meta.edge_types[0];
const { nodes, edges, strings } = heap;
const nodeCount = nodes.length / nodeFieldCount;

// First edge of each node (edges are stored in node order).
const firstEdge = new Uint32Array(nodeCount + 1);
for (let node = 0, edge = 0; node < nodeCount; node++) {
  firstEdge[node] = edge;
  edge += (nodes[node * nodeFieldCount + EDGE_COUNT] ?? 0) * edgeFieldCount;
}
firstEdge[nodeCount] = edges.length;

const typeOf = (node: number) => nodeTypes[nodes[node * nodeFieldCount + TYPE] ?? 0] ?? '?';
const nameOf = (node: number) => strings[nodes[node * nodeFieldCount + NAME] ?? 0] ?? '';
const selfSize = (node: number) => nodes[node * nodeFieldCount + SELF_SIZE] ?? 0;

function* edgesOf(node: number): Generator<{ type: string; name: string | number; to: number }> {
  for (let edge = firstEdge[node] ?? 0; edge < (firstEdge[node + 1] ?? 0); edge += edgeFieldCount) {
    const type = edgeTypes[edges[edge + EDGE_TYPE] ?? 0] ?? '?';
    const raw = edges[edge + EDGE_NAME] ?? 0;
    const name = type === 'element' || type === 'hidden' ? raw : (strings[raw] ?? '');
    yield { type, name, to: (edges[edge + EDGE_TO] ?? 0) / nodeFieldCount };
  }
}

/** The string value of a property, if the property holds a string. */
function stringProperty(node: number, property: string): string | undefined {
  for (const edge of edgesOf(node)) {
    if (edge.type === 'property' && edge.name === property) {
      const type = typeOf(edge.to);
      return type === 'string' || type === 'concatenated string' || type === 'sliced string' ? nameOf(edge.to) : undefined;
    }
  }
  return undefined;
}

function hasProperty(node: number, property: string): boolean {
  for (const edge of edgesOf(node)) if (edge.type === 'property' && edge.name === property) return true;
  return false;
}

// Data edges: properties, elements, and the internal links to their backing stores.
const DATA_INTERNAL = new Set(['elements', 'properties', 'table', 'first', 'second', 'parent', 'actual']);
function isDataEdge(edge: { type: string; name: string | number }): boolean {
  if (edge.type === 'property' || edge.type === 'element') return edge.name !== '__proto__';
  if (edge.type === 'internal') return typeof edge.name === 'string' && DATA_INTERNAL.has(edge.name);
  return false;
}

// Kubernetes objects by kind.
const byKind = new Map<string, number[]>();
let total = 0;
const bySelfType = new Map<string, { count: number; bytes: number }>();
for (let node = 0; node < nodeCount; node++) {
  const size = selfSize(node);
  total += size;
  const type = typeOf(node);
  const key = type === 'object' || type === 'closure' ? `${type} ${nameOf(node)}` : type;
  const entry = bySelfType.get(key) ?? { count: 0, bytes: 0 };
  entry.count++;
  entry.bytes += size;
  bySelfType.set(key, entry);
  if (type !== 'object') continue;
  const kind = stringProperty(node, 'kind');
  if (kind === undefined || !hasProperty(node, 'metadata') || !hasProperty(node, 'apiVersion')) continue;
  byKind.set(kind, [...(byKind.get(kind) ?? []), node]);
}

const counted = new Uint8Array(nodeCount);
function treeSize(root: number): number {
  let size = 0;
  const stack = [root];
  while (stack.length > 0) {
    const node = stack.pop() as number;
    if (counted[node]) continue;
    counted[node] = 1;
    size += selfSize(node);
    for (const edge of edgesOf(node)) {
      if (!isDataEdge(edge) || counted[edge.to]) continue;
      const type = typeOf(edge.to);
      if (type === 'code' || type === 'closure' || type === 'hidden' && nameOf(edge.to) === 'system / Map') continue;
      stack.push(edge.to);
    }
  }
  return size;
}

const kinds = [...byKind.entries()].sort((a, b) => b[1].length - a[1].length);
const rows = kinds.map(([kind, roots]) => ({ kind, count: roots.length, bytes: roots.reduce((sum, root) => sum + treeSize(root), 0) }));
rows.sort((a, b) => b.bytes - a.bytes);
const KiB = 1024;
const MiB = 1024 * KiB;
const attributed = rows.reduce((sum, row) => sum + row.bytes, 0);
console.log(`Heap snapshot ${file}: ${(total / MiB).toFixed(1)} MiB in ${nodeCount} nodes`);
console.log(`\nKubernetes objects held (${(attributed / MiB).toFixed(1)} MiB, ${((attributed / total) * 100).toFixed(0)} % of the heap):`);
console.log('| kind | objects | MiB | KiB per object |');
console.log('|---|---:|---:|---:|');
for (const row of rows) {
  console.log(`| ${row.kind} | ${row.count} | ${(row.bytes / MiB).toFixed(1)} | ${(row.bytes / row.count / KiB).toFixed(1)} |`);
}
console.log('\nLargest node classes by self size:');
console.log('| class | nodes | MiB |');
console.log('|---|---:|---:|');
for (const [key, entry] of [...bySelfType.entries()].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, 15)) {
  console.log(`| ${key.replace(/\|/g, '\\|').slice(0, 60)} | ${entry.count} | ${(entry.bytes / MiB).toFixed(1)} |`);
}
