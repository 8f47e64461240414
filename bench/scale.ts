// Benchmark: N SmsExperiments (default 500) created at once. Reports the time until all are Ready,
// the operator's peak RSS, the operator's API requests per experiment, and then the number of writes
// of a full resync with nothing changed (which must be 0).
// Usage: node bench/scale.ts [experiments]   (figures are reported, never asserted)
import { stringify } from 'yaml';
import { peakRssMiB, startBenchCluster, startOperator, sumSamples } from './support.ts';

const COUNT = Number(process.argv[2] ?? 500);
const NAMESPACE = 'bench-scale';
const RESYNC_SECONDS = 30;
const WRITE_VERBS = ['apply', 'apply-status', 'create', 'replace', 'delete'];

const cluster = await startBenchCluster();
try {
  await cluster.kubectl(['create', 'namespace', NAMESPACE]);
  const operator = await startOperator(cluster, NAMESPACE, ['--resync-period', `${RESYNC_SECONDS}s`, '--concurrency', '8']);
  const requests = () => operator.metric('smsx_operator_api_requests_total');
  const writes = async () => {
    const text = await operator.metricsText();
    return WRITE_VERBS.reduce((sum, verb) => sum + sumSamples(text, 'smsx_operator_api_requests_total', { verb }), 0);
  };
  const reconciles = () => operator.metric('smsx_operator_reconcile_total');

  const manifest = Array.from({ length: COUNT }, (_, i) => stringify({
    apiVersion: 'experiments.sms-app.io/v1alpha1',
    kind: 'SmsExperiment',
    metadata: { name: `exp-${String(i).padStart(3, '0')}` },
    spec: { mode: i % 2 === 0 ? 'canary' : 'shadow' },
  })).join('---\n');
  const requestsBefore = await requests();
  const startedAt = performance.now();
  await cluster.kubectl(['create', '-n', NAMESPACE, '-f', '-'], manifest);
  const createdAt = performance.now();
  console.log(`Created ${COUNT} experiments in ${((createdAt - startedAt) / 1000).toFixed(1)} s`);

  let ready = 0;
  let lastReport = 0;
  while (ready < COUNT) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const list = JSON.parse(await cluster.kubectl(['get', '-n', NAMESPACE, 'smsx', '-o', 'json'])) as {
      items: { status?: { conditions?: { type: string; status: string }[] } }[];
    };
    ready = list.items.filter((item) => item.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
    const elapsed = (performance.now() - startedAt) / 1000;
    if (elapsed - lastReport >= 15) {
      console.log(`  ${elapsed.toFixed(0)} s: ${ready}/${COUNT} Ready`);
      lastReport = elapsed;
    }
    if (elapsed > 1800) throw new Error(`Only ${ready}/${COUNT} Ready after 30 minutes`);
  }
  const allReadyAt = performance.now();
  const requestsToReady = (await requests()) - requestsBefore;

  // Let late status writes (replica counts) settle, then watch one full resync go by.
  await new Promise((resolve) => setTimeout(resolve, 5000));
  const writesBefore = await writes();
  const reconcilesBefore = await reconciles();
  const resyncDeadline = Date.now() + (RESYNC_SECONDS * 3 + 60) * 1000;
  while ((await reconciles()) - reconcilesBefore < COUNT && Date.now() < resyncDeadline) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const resyncReconciles = (await reconciles()) - reconcilesBefore;
  const resyncWrites = (await writes()) - writesBefore;

  console.log(`\n${COUNT} experiments created at once (half canary, half shadow):`);
  console.log(`  time until all Ready        ${((allReadyAt - startedAt) / 1000).toFixed(1)} s`);
  console.log(`  operator peak RSS           ${(await peakRssMiB(operator.pid)).toFixed(0)} MiB`);
  console.log(`  API requests per experiment ${(requestsToReady / COUNT).toFixed(1)} (operator's own requests until all Ready)`);
  console.log(`  full resync, nothing changed: ${resyncReconciles} reconciles, ${resyncWrites} writes (must be 0)`);
  await operator.stop();
} finally {
  await cluster.stop();
}
