// A real Prometheus for tests: Debian's /usr/bin/prometheus (package "prometheus") on a loopback
// port with a temporary data directory, scraping every second with static targets. The targets'
// labels are what the rendered ServiceMonitors' relabelling gives a pod in a cluster
// (serviceMonitorTargetLabels), so queries meet the labels they meet under prometheus-operator.
//
//   const prometheus = await startPrometheus([{ job: 'sms-app-app', targets: [{ address, labels }] }]);
//   const answer = await prometheus.client.query('up');  await prometheus.stop();
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { freePort } from '../../hack/cluster/control-plane.ts';
import { createPrometheusClient, type PrometheusClient } from '../../src/operator/prometheus/client.ts';
import type { DeploymentObject, RenderedObject, ServiceMonitorObject, ServiceObject } from '../../src/operator/render/index.ts';

export const PROMETHEUS_BINARY = process.env.SMSX_PROMETHEUS ?? '/usr/bin/prometheus';
export const SCRAPE_INTERVAL_SECONDS = 1;

export interface ScrapeTarget {
  /** host:port of the process's /metrics. */
  address: string;
  labels: Record<string, string>;
}

export interface ScrapeJob {
  job: string;
  targets: ScrapeTarget[];
  /** The ServiceMonitor endpoint's honorLabels: a metric's own label beats the target's. */
  honorLabels?: boolean;
}

export interface RunningPrometheus {
  url: string;
  client: PrometheusClient;
  /** Resolves once every target has been scraped at or after `afterSeconds` (Unix time), with `up` 1 unless `allowDown`. */
  waitForScrapes(afterSeconds: number, options?: { allowDown?: boolean }): Promise<void>;
  logs(): string;
  stop(): Promise<void>;
}

// What a pod label becomes as a Kubernetes service-discovery meta label (Prometheus' sanitising).
const metaLabelName = (label: string) => label.replace(/[^a-zA-Z0-9_]/g, '_');

const matchesAll = (selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>> | undefined) =>
  Object.entries(selector).every(([name, value]) => labels?.[name] === value);

/**
 * The target labels Prometheus gives a pod of `deployment` when prometheus-operator scrapes it
 * through `serviceMonitor` (names of rendered objects): prometheus-operator's own (namespace,
 * service, pod, container, endpoint, job = the Service's name), then the endpoint's relabelings.
 * Fails when the ServiceMonitor would not find the pod (no Service it selects selects it).
 */
export function serviceMonitorTargetLabels(objects: readonly RenderedObject[], serviceMonitor: string, deployment: string, podName: string): Record<string, string> {
  const monitor = objects.find((object): object is ServiceMonitorObject => object.kind === 'ServiceMonitor' && object.metadata.name === serviceMonitor);
  const workload = objects.find((object): object is DeploymentObject => object.kind === 'Deployment' && object.metadata.name === deployment);
  assert.ok(monitor, `no ServiceMonitor ${serviceMonitor} was rendered`);
  assert.ok(workload, `no Deployment ${deployment} was rendered`);
  const namespace = workload.metadata.namespace ?? '';
  const podLabels = workload.spec.template.metadata?.labels ?? {};
  const container = workload.spec.template.spec?.containers[0]?.name ?? '';
  assert.ok(monitor.spec.namespaceSelector.matchNames.includes(namespace), `ServiceMonitor ${serviceMonitor} does not look in namespace ${namespace}`);
  const services = objects.filter(
    (object): object is ServiceObject =>
      object.kind === 'Service' && object.metadata.namespace === namespace && matchesAll(monitor.spec.selector.matchLabels, object.metadata.labels) && matchesAll(object.spec.selector ?? {}, podLabels),
  );
  assert.equal(services.length, 1, `ServiceMonitor ${serviceMonitor} should reach the pods of ${deployment} through exactly one Service, found ${services.length}`);
  const [service] = services as [ServiceObject];
  assert.equal(monitor.spec.endpoints.length, 1, 'one endpoint per ServiceMonitor is all this reproduces');
  const [endpoint] = monitor.spec.endpoints as [ServiceMonitorObject['spec']['endpoints'][number]];

  const meta: Record<string, string> = {
    __meta_kubernetes_namespace: namespace,
    __meta_kubernetes_service_name: service.metadata.name,
    __meta_kubernetes_pod_name: podName,
    __meta_kubernetes_pod_container_name: container,
    ...Object.fromEntries(Object.entries(podLabels).map(([name, value]) => [`__meta_kubernetes_pod_label_${metaLabelName(name)}`, value])),
  };
  const labels: Record<string, string> = { namespace, service: service.metadata.name, pod: podName, container, endpoint: endpoint.port, job: service.metadata.name };
  for (const relabeling of endpoint.relabelings) {
    const extra = Object.keys(relabeling).filter((key) => key !== 'sourceLabels' && key !== 'targetLabel');
    assert.deepEqual(extra, [], `relabeling fields ${extra.join(', ')} are not reproduced here: extend serviceMonitorTargetLabels`);
    // action replace, regex (.*), replacement $1: the joined source values; empty removes the label.
    const value = relabeling.sourceLabels.map((name) => meta[name] ?? labels[name] ?? '').join(';');
    if (value === '') delete labels[relabeling.targetLabel];
    else labels[relabeling.targetLabel] = value;
  }
  return labels;
}

export interface PrometheusOptions {
  /** Rule files (name → text) Prometheus loads and evaluates. */
  ruleFiles?: Record<string, string>;
  /** How often the rules are evaluated; 15s unless given. */
  evaluationIntervalSeconds?: number;
}

export async function startPrometheus(jobs: readonly ScrapeJob[], options: PrometheusOptions = {}): Promise<RunningPrometheus> {
  if (!existsSync(PROMETHEUS_BINARY)) throw new Error(`Prometheus is not at ${PROMETHEUS_BINARY}: install Debian's "prometheus" package (hack/test.sh does) or set SMSX_PROMETHEUS`);
  const directory = await mkdtemp(path.join(tmpdir(), 'sms-prometheus-'));
  const config = {
    global: { scrape_interval: `${SCRAPE_INTERVAL_SECONDS}s`, scrape_timeout: `${SCRAPE_INTERVAL_SECONDS}s`, evaluation_interval: `${options.evaluationIntervalSeconds ?? 15}s` },
    rule_files: Object.keys(options.ruleFiles ?? {}).map((name) => path.join(directory, name)),
    scrape_configs: jobs.map(({ job, targets, honorLabels = false }) => ({
      job_name: job,
      metrics_path: '/metrics',
      // honor_labels false unless the job says otherwise, as prometheus-operator renders it: a
      // metric label that collides with a target label becomes exported_<name>.
      honor_labels: honorLabels,
      static_configs: targets.map(({ address, labels }) => ({ targets: [address], labels })),
    })),
  };
  await writeFile(path.join(directory, 'prometheus.yml'), stringify(config));
  for (const [name, text] of Object.entries(options.ruleFiles ?? {})) await writeFile(path.join(directory, name), text);
  const port = await freePort();
  const child = spawn(
    PROMETHEUS_BINARY,
    [
      `--config.file=${path.join(directory, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(directory, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
      // Debian's build would otherwise look for its console templates under /etc/prometheus.
      `--web.console.templates=${directory}`,
      `--web.console.libraries=${directory}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  const cleanUp = () => {
    process.removeListener('exit', kill);
    rmSync(directory, { recursive: true, force: true });
  };

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      cleanUp();
      throw new Error(`prometheus exited (${child.exitCode}) while starting:\n${output}`);
    }
    const ready = await fetch(`${url}/-/ready`).catch(() => undefined);
    if (ready?.ok) break;
    if (Date.now() > deadline) {
      kill();
      cleanUp();
      throw new Error(`prometheus not ready after 30 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  const client = createPrometheusClient({ baseUrl: url });
  const targetCount = jobs.reduce((sum, job) => sum + job.targets.length, 0);
  return {
    url,
    client,
    logs: () => output,
    async waitForScrapes(afterSeconds, { allowDown = false } = {}) {
      // timestamp(up) is each target's last scrape time, not the query's evaluation time.
      const until = Date.now() + 20_000;
      let last: string;
      for (;;) {
        const [times, up] = await Promise.all([client.query('timestamp(up)'), client.query('up')]);
        if (times.ok && up.ok) {
          const scrapedAfter = times.value.filter((series) => (series.samples[0]?.value ?? 0) >= afterSeconds).length;
          const upCount = up.value.filter((series) => series.samples[0]?.value === 1).length;
          if (scrapedAfter === targetCount && (allowDown || upCount === targetCount)) return;
          last = `${scrapedAfter} of ${targetCount} targets scraped since then, ${upCount} up`;
        } else {
          last = JSON.stringify(times.ok ? up : times);
        }
        if (Date.now() > until) throw new Error(`Prometheus did not scrape every target after ${afterSeconds}: ${last}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
    async stop() {
      if (child.exitCode === null) {
        const timer = setTimeout(kill, 10_000);
        child.kill('SIGTERM');
        await exited;
        clearTimeout(timer);
      }
      cleanUp();
    },
  };
}
