// Benchmark: latency from a `kubectl patch` of an experiment's weights to the VirtualService that
// carries them, seen by a watch, over 200 edits. Two figures per edit:
//   operator   from the watch event of the patched SmsExperiment to the watch event of the updated
//              VirtualService (what the operator adds: queue, render, apply)
//   end-to-end from starting `kubectl patch` to the VirtualService event (adds kubectl's start-up)
// With "experiments present" N > 0, N other experiments (half canary, half shadow) are created first
// and Ready before the edits start, so the operator's caches, queue and resyncs carry that load; the
// operator then runs as bench/scale.ts runs it (memory cgroup with the manifest's limit and env).
// Usage: node bench/weight-latency.ts [edits] [experiments present]   (figures are reported, never asserted)
import { isDeepStrictEqual } from 'node:util';
import { Watch } from '@kubernetes/client-node';
import { smsExperimentSchema } from '../src/crd/schema.ts';
import { render } from '../src/operator/render/index.ts';
import { freePort } from '../hack/cluster/control-plane.ts';
import { confineLikeTheManifest, mib, processMemory, type ConfinedOperator } from './memory.ts';
import type { OperatorProcess } from '../test/support/operator.ts';
import { experimentManifest, percentile, startBenchCluster, startOperator, waitForReady } from './support.ts';

const EDITS = Number(process.argv[2] ?? 200);
const PRESENT = Number(process.argv[3] ?? 0);
const NAMESPACE = 'bench-latency';
const NAME = 'sms-app';
const WEIGHTS = [[50, 50], [90, 10], [0, 100], [75, 25], [100, 0], [10, 90]] as const;

const cluster = await startBenchCluster();
let confined: ConfinedOperator | undefined;
let running: OperatorProcess | undefined;
try {
  await cluster.kubectl(['create', 'namespace', NAMESPACE]);
  if (PRESENT > 0) confined = await confineLikeTheManifest(`smsx-bench-latency-${process.pid}`, await freePort());
  const operator = await startOperator(cluster, NAMESPACE, [], confined?.launch);
  running = operator;
  if (PRESENT > 0) {
    const startedAt = performance.now();
    await cluster.kubectl(['create', '-n', NAMESPACE, '-f', '-'], experimentManifest(PRESENT, 'other'));
    await waitForReady(cluster, NAMESPACE, PRESENT, { startedAt, alive: () => operator.alive });
    console.log(`${PRESENT} other experiments Ready in ${((performance.now() - startedAt) / 1000).toFixed(1)} s`);
  }
  await cluster.kubectl(['apply', '-n', NAMESPACE, '-f', 'config/samples/experiments_v1alpha1_smsexperiment_canary.yaml']);
  await cluster.kubectl(['wait', '-n', NAMESPACE, '--for=condition=Ready', `smsx/${NAME}`, '--timeout=120s']);

  // Latest watch sightings: generation of the experiment → when seen; VirtualService spec → when seen.
  const experimentSeenAt = new Map<number, number>();
  let expectedSpec: unknown;
  let waiter: { resolve: (at: number) => void } | undefined;
  const watch = new Watch(cluster.kubeConfig);
  const experiments = await watch.watch(`/apis/experiments.sms-app.io/v1alpha1/namespaces/${NAMESPACE}/smsexperiments`, {},
    (_type, object: unknown) => {
      const parsed = smsExperimentSchema.safeParse(object);
      if (parsed.success && parsed.data.metadata.generation !== undefined && !experimentSeenAt.has(parsed.data.metadata.generation)) {
        experimentSeenAt.set(parsed.data.metadata.generation, performance.now());
      }
    }, () => undefined);
  const virtualServices = await watch.watch(`/apis/networking.istio.io/v1/namespaces/${NAMESPACE}/virtualservices`, {},
    (_type, object: { metadata?: { name?: string }; spec?: unknown }) => {
      if (object.metadata?.name === `${NAME}-vs` && waiter && isDeepStrictEqual(object.spec, expectedSpec)) {
        waiter.resolve(performance.now());
        waiter = undefined;
      }
    }, () => undefined);

  const operatorMs: number[] = [];
  const endToEndMs: number[] = [];
  const current = smsExperimentSchema.parse(JSON.parse(await cluster.kubectl(['get', '-n', NAMESPACE, 'smsx', NAME, '-o', 'json'])));
  for (let edit = 0; edit < EDITS; edit += 1) {
    const [stable, canary] = WEIGHTS[edit % WEIGHTS.length] ?? [90, 10];
    const next = structuredClone(current);
    next.spec.traffic.weights = { stable, canary };
    const desired = render(next).find((object) => object.kind === 'VirtualService' && object.metadata.name === `${NAME}-vs`);
    expectedSpec = (desired as { spec?: unknown } | undefined)?.spec;
    const seen = new Promise<number>((resolve) => (waiter = { resolve }));
    const startedAt = performance.now();
    await cluster.kubectl(['patch', '-n', NAMESPACE, 'smsx', NAME, '--type', 'merge', '-p',
      JSON.stringify({ spec: { traffic: { weights: { stable, canary } } } })]);
    const timeout = new Promise<number>((_, reject) => setTimeout(() => reject(new Error(`edit ${edit}: VirtualService not updated within 10 s`)), 10_000));
    const seenAt = await Promise.race([seen, timeout]);
    const generation = smsExperimentSchema.parse(JSON.parse(await cluster.kubectl(['get', '-n', NAMESPACE, 'smsx', NAME, '-o', 'json']))).metadata.generation ?? -1;
    const patchedAt = experimentSeenAt.get(generation) ?? startedAt;
    operatorMs.push(seenAt - patchedAt);
    endToEndMs.push(seenAt - startedAt);
  }
  experiments.abort();
  virtualServices.abort();

  const report = (label: string, values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    console.log(`${label.padEnd(12)} p50 ${percentile(sorted, 50).toFixed(1)} ms   p99 ${percentile(sorted, 99).toFixed(1)} ms   max ${(sorted.at(-1) ?? NaN).toFixed(1)} ms`);
  };
  console.log(`\nWeight edit → VirtualService, ${EDITS} edits, ${PRESENT} other experiments present:`);
  report('operator', operatorMs);
  report('end-to-end', endToEndMs);
  if (confined) {
    const memory = await processMemory(operator.pid);
    console.log(
      `operator RSS ${memory ? mib(memory.rssBytes) : 'n/a'} MiB, peak ${memory ? mib(memory.peakRssBytes) : 'n/a'} MiB, ` +
        `OOM kills ${await confined.cgroup.oomKills()} (limit ${confined.container.memoryLimit})`,
    );
  }
  console.log(`Targets: operator p50 ≤ 20 ms, p99 ≤ ${PRESENT > 0 ? 50 : 100} ms (reported, not asserted)`);
  await operator.stop();
} finally {
  // After a failure too: a live process keeps the cgroup from being removed.
  await running?.stop();
  await cluster.stop();
  await confined?.cgroup.remove();
}
