// Benchmark: N SmsExperiments (default 500, half canary, half shadow) created at once, with the
// operator run as its manifest runs it as far as memory goes: inside a cgroup-v1 memory group with the
// container's limit (config/manager/manager.yaml) and the container's environment (NODE_OPTIONS).
// Reports, for the same run:
//   - the time until all are Ready, and the same for a bare client (bench/bare-client.ts) that
//     applies the same rendered objects in another namespace and waits for the same Deployments:
//     the ratio says what the operator adds to what the control plane needs anyway;
//   - the operator's API requests per experiment until all Ready (by verb);
//   - the operator's peak RSS (VmHWM) and the cgroup's peak charge, its RSS after settling (60 s after
//     all Ready), the V8 heap after a forced full GC (through the inspector, bench/memory.ts) at
//     start and after settling, and OOM kills the kernel counted in the group;
//   - the writes of one full resync with nothing changed (must be 0);
//   - where the CPU went in each phase (bench/cpu.ts), per process, the operator apart.
// Usage: node bench/scale.ts [experiments]   (figures are reported, never asserted)
//   SMSX_BENCH_BARE=before|after|skip   when the bare client runs (default before; its namespace is
//                                       deleted before the operator starts)
//   SMSX_BENCH_HEAP_SNAPSHOT=<file>     also writes a heap snapshot after settling (bench/heap-summary.ts reads it)
//   SMSX_BENCH_NODE_ARGS="<flags>"      node flags for the operator, beside the manifest's, e.g.
//                                       "--cpu-prof --cpu-prof-dir=<dir>" (written when it stops)
import path from 'node:path';
import { freePort } from '../hack/cluster/control-plane.ts';
import { runBareClient, type BareClientResult } from './bare-client.ts';
import { cpuBetween, cpuByCommand, cpuLine } from './cpu.ts';
import { confineLikeTheManifest, heapAfterGc, mib, processMemory, rssByMapping, type HeapFigures, type ProcessMemory } from './memory.ts';
import type { OperatorProcess } from '../test/support/operator.ts';
import { experimentManifest, startBenchCluster, startOperator, sumSamples, waitForReady, type BenchCluster } from './support.ts';

const COUNT = Number(process.argv[2] ?? 500);
const NAMESPACE = 'bench-scale';
const BARE_NAMESPACE = 'bench-bare';
const BARE = process.env.SMSX_BENCH_BARE ?? 'before';
const SNAPSHOT = process.env.SMSX_BENCH_HEAP_SNAPSHOT;
const RESYNC_SECONDS = 30;
const SETTLE_SECONDS = 60;
const WRITE_VERBS = ['apply', 'apply-status', 'create', 'replace', 'delete'];
const VERBS = ['get', 'list', 'apply', 'apply-status', 'create', 'replace', 'delete', 'discover'];

if (!['before', 'after', 'skip'].includes(BARE)) throw new Error(`SMSX_BENCH_BARE must be before, after or skip, not ${BARE}`);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The bare client's figures, with the CPU each process used during its run. */
type BareRun = BareClientResult & { cpu: string };

async function bareRun(cluster: BenchCluster): Promise<BareRun> {
  console.log(`Bare client: ${COUNT} experiments in ${BARE_NAMESPACE}`);
  await cluster.kubectl(['create', 'namespace', BARE_NAMESPACE]);
  const cpuBefore = await cpuByCommand();
  const result = await runBareClient(cluster, BARE_NAMESPACE, COUNT);
  const cpu = cpuLine(cpuBetween(cpuBefore, await cpuByCommand()));
  console.log(`  bare client: all ${result.deployments} Deployments Available in ${result.seconds.toFixed(1)} s; CPU: ${cpu}`);
  return { ...result, cpu };
}

const cluster = await startBenchCluster();
const confined = await confineLikeTheManifest(`smsx-bench-scale-${process.pid}`, await freePort());
const { cgroup, container } = confined;
let running: OperatorProcess | undefined;
try {
  console.log(
    `Operator in memory cgroup ${cgroup.path} (limit ${container.memoryLimit} from config/manager/manager.yaml), ` +
      `env ${JSON.stringify(container.env)}`,
  );
  let bare: BareRun | undefined;
  if (BARE === 'before') {
    bare = await bareRun(cluster);
    // The operator starts on a control plane without the bare client's objects and pods.
    const deleteStarted = performance.now();
    await cluster.kubectl(['delete', 'namespace', BARE_NAMESPACE, '--wait=true', '--timeout=900s']);
    console.log(`  deleted ${BARE_NAMESPACE} in ${((performance.now() - deleteStarted) / 1000).toFixed(1)} s`);
  }

  await cluster.kubectl(['create', 'namespace', NAMESPACE]);
  const operator = await startOperator(cluster, NAMESPACE, ['--resync-period', `${RESYNC_SECONDS}s`, '--concurrency', '8'], confined.launch);
  running = operator;
  const pid = operator.pid ?? -1;
  const requestsBy = async () => {
    const text = await operator.metricsText();
    return Object.fromEntries(VERBS.map((verb) => [verb, sumSamples(text, 'smsx_operator_api_requests_total', { verb })]));
  };
  const writes = async () => {
    const text = await operator.metricsText();
    return WRITE_VERBS.reduce((sum, verb) => sum + sumSamples(text, 'smsx_operator_api_requests_total', { verb }), 0);
  };
  const reconciles = () => operator.metric('smsx_operator_reconcile_total');
  const heapAtStart = await heapAfterGc(pid, confined.inspectPort);
  const rssAtStart = (await processMemory(pid))?.rssBytes;

  const requestsBefore = await requestsBy();
  const operatorNamed = new Map([[pid, 'operator']]);
  const cpuBefore = await cpuByCommand(operatorNamed);
  const startedAt = performance.now();
  await cluster.kubectl(['create', '-n', NAMESPACE, '-f', '-'], experimentManifest(COUNT));
  console.log(`Operator: created ${COUNT} experiments in ${((performance.now() - startedAt) / 1000).toFixed(1)} s`);
  const ready = await waitForReady(cluster, NAMESPACE, COUNT, { startedAt, alive: () => operator.alive });
  const readySeconds = (performance.now() - startedAt) / 1000;
  const cpuUntilReady = cpuBetween(cpuBefore, await cpuByCommand(operatorNamed));
  const requestsAfter = await requestsBy().catch(() => undefined);
  const peakAtReady = await processMemory(pid);

  let settled: ProcessMemory | undefined;
  let mappings: Awaited<ReturnType<typeof rssByMapping>> = [];
  let heapAfterSettling: HeapFigures | undefined;
  let resync: { reconciles: number; writes: number } | undefined;
  if (ready === COUNT && operator.alive) {
    await sleep(SETTLE_SECONDS * 1000);
    settled = await processMemory(pid);
    mappings = (await rssByMapping(pid)).slice(0, 4);
    heapAfterSettling = await heapAfterGc(pid, confined.inspectPort);

    // The settling is longer than a resync period, so late status writes are done: watch one full resync go by.
    const writesBefore = await writes();
    const reconcilesBefore = await reconciles();
    const resyncDeadline = Date.now() + (RESYNC_SECONDS * 3 + 60) * 1000;
    while ((await reconciles()) - reconcilesBefore < COUNT && Date.now() < resyncDeadline) await sleep(1000);
    await sleep(2000);
    resync = { reconciles: (await reconciles()) - reconcilesBefore, writes: (await writes()) - writesBefore };
  }
  const memory = await processMemory(pid);
  const cgroupPeak = await cgroup.maxUsageBytes();
  const oomKills = await cgroup.oomKills();
  // Last, after the peaks are read: writing a snapshot costs the process memory of its own.
  // Serializing the heap needs several times the heap again: inside the container's limit the
  // kernel kills the process for the snapshot itself (seen at 500 experiments). Every figure above
  // is read already; the limit is lifted for the snapshot alone.
  if (SNAPSHOT && operator.alive) {
    await cgroup.setLimit(4 * container.memoryLimitBytes);
    await heapAfterGc(pid, confined.inspectPort, SNAPSHOT);
    console.log(`  heap snapshot written to ${SNAPSHOT} (the cgroup limit lifted to ${mib(4 * container.memoryLimitBytes)} MiB for it)`);
  }
  const rssAfterSettling = settled?.rssBytes;
  const exited = operator.alive ? undefined : String(await operator.exited);
  await operator.stop();
  if (BARE === 'after') bare = await bareRun(cluster);

  const requests = requestsAfter
    ? Object.fromEntries(VERBS.map((verb) => [verb, (requestsAfter[verb] ?? 0) - (requestsBefore[verb] ?? 0)]))
    : undefined;
  const requestTotal = requests ? Object.values(requests).reduce((sum, value) => sum + value, 0) : NaN;
  const perExperiment = (value: number) => (value / COUNT).toFixed(1);
  const heapLine = (heap: HeapFigures | undefined) =>
    heap ? `${mib(heap.heapUsedBytes)} MiB used of ${mib(heap.heapTotalBytes)} MiB (limit ${mib(heap.heapLimitBytes)} MiB), external ${mib(heap.externalBytes)} MiB` : 'n/a';

  console.log(`\n${COUNT} experiments created at once (half canary, half shadow), operator limited to ${container.memoryLimit}:`);
  console.log(`  time until all Ready          ${readySeconds.toFixed(1)} s${ready < COUNT ? ` (only ${ready}/${COUNT}: operator exited with ${exited})` : ''}`);
  if (bare) {
    console.log(`  bare client (${BARE})          ${bare.seconds.toFixed(1)} s   ratio ${(readySeconds / bare.seconds).toFixed(2)}`);
  }
  console.log(`  CPU until all Ready           ${cpuLine(cpuUntilReady)}`);
  if (bare) console.log(`  CPU of the bare client's run  ${bare.cpu}`);
  console.log(
    `  API requests per experiment   ${perExperiment(requestTotal)} until all Ready` +
      (requests ? ` (${VERBS.filter((verb) => (requests[verb] ?? 0) > 0).map((verb) => `${verb} ${perExperiment(requests[verb] ?? 0)}`).join(', ')})` : '') +
      (bare ? `; bare client ${perExperiment(bare.applies)}` : ''),
  );
  console.log(`  operator RSS peak             ${memory ? mib(memory.peakRssBytes) : peakAtReady ? mib(peakAtReady.peakRssBytes) : 'n/a'} MiB (cgroup peak charge ${mib(cgroupPeak)} MiB)`);
  console.log(`  operator RSS after settling   ${rssAfterSettling === undefined ? 'n/a' : mib(rssAfterSettling)} MiB (${SETTLE_SECONDS} s after all Ready; at start, idle: ${rssAtStart === undefined ? 'n/a' : mib(rssAtStart)} MiB)`);
  if (settled) console.log(`  — of which anonymous / files  ${mib(settled.anonBytes)} / ${mib(settled.fileBytes)} MiB (files: mostly the node binary's pages)`);
  if (mappings.length > 0) console.log(`  — largest mappings           ${mappings.map(({ mapping, rssBytes, regions }) => `${path.basename(mapping)} ${mib(rssBytes)} MiB (${regions})`).join(', ')}`);
  console.log(`  heap after GC, at start       ${heapLine(heapAtStart)}`);
  console.log(`  heap after GC, after settling ${heapLine(heapAfterSettling)}`);
  if (heapAfterSettling) {
    console.log(`  heap per experiment           ${((heapAfterSettling.heapUsedBytes - heapAtStart.heapUsedBytes) / COUNT / 1024).toFixed(0)} KiB`);
  }
  console.log(`  OOM kills in the cgroup       ${oomKills}`);
  console.log(`  full resync, nothing changed: ${resync ? `${resync.reconciles} reconciles, ${resync.writes} writes (must be 0)` : 'n/a'}`);
  console.log(
    `RESULT ${JSON.stringify({
      experiments: COUNT,
      readySeconds,
      ready,
      bareSeconds: bare?.seconds,
      cpuUntilReady: Object.fromEntries(cpuUntilReady.map(({ command, seconds }) => [command, Math.round(seconds)])),
      bareAppliesPerExperiment: bare ? bare.applies / COUNT : undefined,
      requestsPerExperiment: requestTotal / COUNT,
      requests,
      peakRssMiB: memory ? memory.peakRssBytes / 2 ** 20 : undefined,
      cgroupPeakMiB: cgroupPeak / 2 ** 20,
      rssAfterSettlingMiB: rssAfterSettling === undefined ? undefined : rssAfterSettling / 2 ** 20,
      rssAnonAfterSettlingMiB: settled ? settled.anonBytes / 2 ** 20 : undefined,
      rssAtStartMiB: rssAtStart === undefined ? undefined : rssAtStart / 2 ** 20,
      heapAtStartMiB: heapAtStart.heapUsedBytes / 2 ** 20,
      heapAfterSettlingMiB: heapAfterSettling ? heapAfterSettling.heapUsedBytes / 2 ** 20 : undefined,
      heapLimitMiB: heapAtStart.heapLimitBytes / 2 ** 20,
      oomKills,
      resync,
    })}`,
  );
} finally {
  // After a failure too: a live process keeps the cgroup from being removed.
  await running?.stop();
  await cluster.stop();
  await cgroup.remove();
}
