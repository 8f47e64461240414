// The main job: the whole system locally. Starts the local control plane (with the Istio and
// prometheus-operator CRDs), installs the SmsExperiment CRD, starts the operator, applies the canary
// sample, prints the kubectl commands to watch and change it and streams the operator's log.
// Ctrl-C (or SIGTERM) stops the operator and then the control plane.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderCrdYaml, CRD_NAME } from '../src/crd/crd.ts';
import { freePort, startControlPlane, type ControlPlane } from './cluster/control-plane.ts';
import { cacheDir, loadToolchain } from './cluster/toolchain.ts';

const NAMESPACE = 'sms-app';
const SAMPLE = 'config/samples/experiments_v1alpha1_smsexperiment_canary.yaml';
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function say(line: string): void {
  console.log(`[run] ${line}`);
}

async function main(): Promise<void> {
  const toolchain = await loadToolchain();
  const runDir = path.join(cacheDir(), 'clusters', 'main');
  await rm(runDir, { recursive: true, force: true });
  await mkdir(runDir, { recursive: true });

  // Filled in as they start; the signal handlers exist from the beginning to stop whatever is up.
  const running: { controlPlane?: ControlPlane; operator?: ChildProcess } = {};
  let stopping = false;
  const stop = async (why: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    say(`${why}: stopping the operator and the control plane`);
    const { operator, controlPlane } = running;
    if (operator && operator.exitCode === null) {
      const exited = new Promise((resolve) => operator.once('exit', resolve));
      const within = (ms: number) => Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms))]);
      // A terminal's Ctrl-C reaches the operator too (same process group): give it time to stop
      // gracefully on that signal alone, since a second signal makes it stop at once.
      if (why !== 'Received SIGINT' || !(await within(5_000))) {
        operator.kill('SIGTERM');
        if (!(await within(10_000))) operator.kill('SIGKILL');
      }
    }
    await controlPlane?.stop();
    say('Stopped');
    process.exit(code);
  };
  process.on('SIGINT', () => void stop('Received SIGINT'));
  process.on('SIGTERM', () => void stop('Received SIGTERM'));

  say('Starting the local control plane');
  const controlPlane = await startControlPlane({ toolchain, runDir, log: (line) => say(`  ${line}`) });
  running.controlPlane = controlPlane;
  const kubeconfig = controlPlane.kubeconfigPath;
  const kubectl = (args: string[], input?: string) =>
    new Promise<void>((resolve, reject) => {
      const child = spawn(toolchain.kubectl, ['--kubeconfig', kubeconfig, ...args], { stdio: ['pipe', 'inherit', 'inherit'] });
      child.stdin.end(input ?? '');
      child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`kubectl ${args.join(' ')} exited with ${code}`))));
    });

  say(`Installing the ${CRD_NAME} CRD and the ${NAMESPACE} namespace`);
  await kubectl(['apply', '--server-side', '--field-manager=sms-experiment-run', '-f', '-'], renderCrdYaml());
  await kubectl(['wait', '--for=condition=Established', `crd/${CRD_NAME}`, '--timeout=60s']);
  // The label is what a user sets for Istio sidecar injection; paired routing depends on it.
  await kubectl(['apply', '--server-side', '--field-manager=sms-experiment-run', '-f', '-'],
    `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${NAMESPACE}\n  labels:\n    istio-injection: enabled\n`);

  const metricsPort = await freePort();
  say(`Starting the operator (metrics on http://127.0.0.1:${metricsPort}/metrics)`);
  const operator = spawn(process.execPath, [
    path.join(repoRoot, 'src/operator/main.ts'),
    '--kubeconfig', kubeconfig,
    '--namespaces', NAMESPACE,
    '--metrics-bind-address', '127.0.0.1',
    '--metrics-port', String(metricsPort),
    '--leader-election-namespace', 'default',
    // A person reads this log in the terminal; a cluster's pipeline gets the default, JSON.
    '--log-format', 'text',
  ], { stdio: ['ignore', 'inherit', 'inherit'] });
  running.operator = operator;
  operator.once('exit', (code, signal) => {
    if (!stopping) void stop(`The operator exited (${code ?? signal})`, 1);
  });

  say(`Applying ${SAMPLE}`);
  await kubectl(['apply', '-n', NAMESPACE, '-f', path.join(repoRoot, SAMPLE)]);

  const k = `${toolchain.kubectl} --kubeconfig ${kubeconfig}`;
  say(`Ready. In another terminal:

  export KUBECONFIG=${kubeconfig}
  alias kubectl=${toolchain.kubectl}

  kubectl -n ${NAMESPACE} get smsx -w                 # mode, weights, mirror %, ready
  kubectl -n ${NAMESPACE} edit smsx sms-app           # shift traffic, switch mode, ...
  kubectl -n ${NAMESPACE} patch smsx sms-app --type merge -p '{"spec":{"traffic":{"weights":{"stable":50,"canary":50}}}}'
  kubectl -n ${NAMESPACE} get virtualservice sms-app-vs -o yaml
  kubectl -n ${NAMESPACE} get deploy,svc,gateway,virtualservice,destinationrule,ingress,servicemonitor,prometheusrule
  kubectl -n ${NAMESPACE} describe smsx sms-app       # conditions and events
  curl -s http://127.0.0.1:${metricsPort}/metrics | grep smsx_operator

(full kubectl path: ${k})
The operator's log follows; Ctrl-C stops everything.
`);
  await new Promise(() => undefined);
}

main().catch((error: unknown) => {
  console.error(`[run] error: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
