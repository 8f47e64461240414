// The Vagrant + Ansible provisioning, checked where VirtualBox cannot run: Ruby's syntax check and a
// recorded evaluation of the Vagrantfile, ansible-playbook --syntax-check on every playbook (which
// also resolves every module, so a missing collection fails here), ansible-lint, and the roles'
// templates rendered with the inventory's variables and compared with the seed design's addresses.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { smsExperimentSchema, smsExperimentSpecSchema } from '../../src/crd/schema.ts';
import { DEFAULT_DASHBOARD_LABEL } from '../../src/operator/render/labels.ts';

const repositoryRoot = path.resolve(import.meta.dirname, '../..');
const ansibleDir = path.join(repositoryRoot, 'ansible');
const vagrantfile = path.join(repositoryRoot, 'vagrant', 'Vagrantfile');
const vagrantfileProbe = path.join(repositoryRoot, 'test', 'unit', 'provisioning', 'vagrantfile-probe.rb');

// The seed design's LoadBalancer addresses and access points (deployment-architecture.md, section 4).
const NGINX_ADDRESS = '192.168.56.95';
const ISTIO_GATEWAY_ADDRESS = '192.168.56.96';
const SEED_HOSTS: Record<string, string> = {
  'sms-nginx.local': NGINX_ADDRESS,
  'grafana.local': NGINX_ADDRESS,
  'dashboard.local': NGINX_ADDRESS,
  'sms-app.local': ISTIO_GATEWAY_ADDRESS,
  'stable.sms-app.local': ISTIO_GATEWAY_ADDRESS,
  'canary.sms-app.local': ISTIO_GATEWAY_ADDRESS,
};
const SHARED_MOUNT = '/mnt/shared';
const MODEL_DIR = '/mnt/shared/models';
const SAMPLE_SMTP_PASSWORD = 'sample-password-for-the-test';

/** The Debian package that provides each tool hack/test.sh installs. */
const DEBIAN_PACKAGE: Record<string, string> = { ruby: 'ruby', 'ansible-playbook': 'ansible', 'ansible-lint': 'ansible-lint' };

interface RunResult {
  status: number | null;
  output: string;
}

/** Runs a tool to completion, stdout and stderr interleaved; a missing tool is an error that says so. */
function run(command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? repositoryRoot,
      env: { ...process.env, ANSIBLE_NOCOLOR: '1', NO_COLOR: '1', ANSIBLE_FORCE_COLOR: '0', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') {
        const pkg = DEBIAN_PACKAGE[command] ?? command;
        reject(new Error(`${command} is not installed: install the Debian package ${pkg} (hack/test.sh does, as root)`));
      } else {
        reject(error);
      }
    });
    child.on('close', (status) => resolve({ status, output }));
  });
}

function assertSucceeded(result: RunResult, what: string): void {
  assert.equal(result.status, 0, `${what} exited with ${result.status}:\n${result.output}`);
}

const probeSchema = z.object({
  box: z.string(),
  box_version: z.string(),
  synced_folders: z.array(z.object({ host: z.string(), guest: z.string(), options: z.record(z.string(), z.unknown()) })),
  machines: z.array(
    z.object({
      name: z.string(),
      hostname: z.string(),
      networks: z.array(z.object({ type: z.string(), ip: z.string() })),
      provider: z.string(),
      cpus: z.number(),
      memory: z.number(),
      provisioners: z.array(z.looseObject({ type: z.string() })),
    }),
  ),
});

/** Evaluates the Vagrantfile against a recording stand-in for Vagrant (no VMs) and returns what it configured. */
async function probeVagrantfile(env: NodeJS.ProcessEnv, sharedDir: string): Promise<z.output<typeof probeSchema>> {
  const result = await run('ruby', [vagrantfileProbe, vagrantfile], { env: { SMS_SHARED_DIR: sharedDir, ...env } });
  assertSucceeded(result, 'the Vagrantfile probe');
  return probeSchema.parse(JSON.parse(result.output));
}

async function readYaml(file: string): Promise<unknown> {
  return parse(await readFile(file, 'utf8')) as unknown;
}

async function readYamlDocuments(file: string): Promise<unknown[]> {
  return parseAllDocuments(await readFile(file, 'utf8')).map((document) => document.toJSON() as unknown);
}

/** Renders the roles' templates into a fresh directory with the inventory's variables plus `extraVars`. */
async function renderTemplates(renderDir: string, extraVars: Record<string, string>): Promise<RunResult> {
  const vars = { render_dir: renderDir, credentials_dir: path.join(renderDir, '.credentials'), shared_host_dir: path.join(renderDir, 'shared'), ...extraVars };
  return run('ansible-playbook', ['render-templates.yml', '--extra-vars', JSON.stringify(vars)], { cwd: ansibleDir });
}

function recapChanged(output: string): number {
  const match = /localhost\s+:\s+ok=\d+\s+changed=(\d+)/.exec(output);
  assert.ok(match?.[1] !== undefined, `no play recap in:\n${output}`);
  return Number(match[1]);
}

describe('provisioning: Vagrant + VirtualBox + Ansible (checked without VMs)', function () {
  let scratch: string;

  before(async function () {
    scratch = await mkdtemp(path.join(tmpdir(), 'provisioning-test-'));
  });

  after(async function () {
    await rm(scratch, { recursive: true, force: true });
  });

  describe('vagrant/Vagrantfile', function () {
    it('passes `ruby -c`', async function () {
      const result = await run('ruby', ['-c', vagrantfile]);
      assertSucceeded(result, 'ruby -c vagrant/Vagrantfile');
      assert.match(result.output, /Syntax OK/);
    });

    it('defines a controller and two workers on 192.168.56.0/24, each with the shared folder at /mnt/shared, provisioned once by Ansible', async function () {
      const shared = path.join(scratch, 'shared-default');
      const config = await probeVagrantfile({}, shared);
      assert.deepEqual(
        config.machines.map((machine) => [machine.name, machine.hostname, machine.networks.map((network) => `${network.type} ${network.ip}`).join()]),
        [
          ['controller', 'controller', 'private_network 192.168.56.100'],
          ['worker-1', 'worker-1', 'private_network 192.168.56.101'],
          ['worker-2', 'worker-2', 'private_network 192.168.56.102'],
        ],
      );
      for (const machine of config.machines) {
        assert.equal(machine.provider, 'virtualbox');
        assert.ok(machine.cpus >= 2 || machine.name !== 'controller', 'kubeadm needs 2 CPUs on the controller');
        assert.ok(machine.memory >= 2048, `${machine.name} has ${machine.memory} MiB`);
      }
      assert.deepEqual(
        config.synced_folders.filter((folder) => folder.guest === SHARED_MOUNT).map((folder) => folder.host),
        [shared],
        'the host folder is mounted at /mnt/shared (on every VM: it is set on the shared config)',
      );
      // Ansible runs once, from the last VM, against all of them, with the groups the playbooks use.
      const provisioners = config.machines.map((machine) => machine.provisioners);
      assert.deepEqual(provisioners.slice(0, -1), [[], []]);
      const ansible = z
        .looseObject({
          type: z.literal('ansible'),
          playbook: z.string(),
          config_file: z.string(),
          limit: z.literal('all:localhost'),
          groups: z.record(z.string(), z.array(z.string())),
          host_vars: z.record(z.string(), z.object({ node_ip: z.string() })),
          extra_vars: z.object({ repo_root: z.string(), shared_host_dir: z.string() }),
        })
        .parse(provisioners.at(-1)?.[0]);
      assert.equal(ansible.playbook, path.join(ansibleDir, 'site.yml'));
      assert.equal(ansible.config_file, path.join(ansibleDir, 'ansible.cfg'));
      assert.deepEqual(ansible.groups, { controllers: ['controller'], workers: ['worker-1', 'worker-2'], 'cluster:children': ['controllers', 'workers'] });
      assert.deepEqual(ansible.host_vars, {
        controller: { node_ip: '192.168.56.100' },
        'worker-1': { node_ip: '192.168.56.101' },
        'worker-2': { node_ip: '192.168.56.102' },
      });
      assert.deepEqual(ansible.extra_vars, { repo_root: repositoryRoot, shared_host_dir: shared });
    });

    it('takes the number of workers, CPUs and memory from the environment', async function () {
      const config = await probeVagrantfile(
        { SMS_WORKERS: '3', SMS_WORKER_CPUS: '4', SMS_WORKER_MEMORY: '8192', SMS_CONTROLLER_MEMORY: '3072' },
        path.join(scratch, 'shared-sized'),
      );
      assert.deepEqual(
        config.machines.map((machine) => [machine.name, machine.networks[0]?.ip, machine.cpus, machine.memory]),
        [
          ['controller', '192.168.56.100', 2, 3072],
          ['worker-1', '192.168.56.101', 4, 8192],
          ['worker-2', '192.168.56.102', 4, 8192],
          ['worker-3', '192.168.56.103', 4, 8192],
        ],
      );
    });

    it('refuses a bad setting with a message that names it', async function () {
      for (const [variable, value] of [
        ['SMS_WORKERS', 'two'],
        ['SMS_WORKERS', '0'],
        ['SMS_CONTROLLER_CPUS', '1'],
      ] as const) {
        const result = await run('ruby', [vagrantfileProbe, vagrantfile], { env: { SMS_SHARED_DIR: path.join(scratch, 'shared-bad'), [variable]: value } });
        assert.notEqual(result.status, 0, `${variable}=${value} was accepted`);
        assert.match(result.output, new RegExp(`${variable} must be a whole number from \\d+ to \\d+, got "${value}"`));
      }
    });

    it('takes the box and its version from the pinned versions file', async function () {
      const versions = z.looseObject({ vagrant_box: z.string(), vagrant_box_version: z.string() }).parse(await readYaml(path.join(ansibleDir, 'group_vars/all/versions.yml')));
      const config = await probeVagrantfile({}, path.join(scratch, 'shared-box'));
      assert.equal(config.box, versions.vagrant_box);
      assert.equal(config.box_version, versions.vagrant_box_version);
    });
  });

  describe('ansible/', function () {
    it('passes `ansible-playbook --syntax-check` on every playbook (every module resolves)', async function () {
      this.timeout(180_000);
      const playbooks = (await readdir(ansibleDir)).filter((file) => file.endsWith('.yml') && file !== 'requirements.yml').sort();
      assert.deepEqual(playbooks, ['cluster.yml', 'experiment.yml', 'finalise.yml', 'platform.yml', 'preflight.yml', 'render-templates.yml', 'site.yml']);
      const result = await run('ansible-playbook', ['--syntax-check', ...playbooks], { cwd: ansibleDir });
      assertSucceeded(result, `ansible-playbook --syntax-check ${playbooks.join(' ')}`);
      for (const playbook of playbooks) assert.match(result.output, new RegExp(`playbook: ${playbook.replace('.', '\\.')}`));
    });

    it('passes `ansible-lint` with the production profile', async function () {
      this.timeout(300_000);
      const result = await run('ansible-lint', ['--offline', '-c', 'ansible/.ansible-lint', 'ansible']);
      assertSucceeded(result, 'ansible-lint --offline -c ansible/.ansible-lint ansible');
      assert.match(result.output, /Passed with production profile: 0 failure\(s\), 0 warning\(s\)/);
    });

    it('pins every version in group_vars/all/versions.yml and nowhere else', async function () {
      const versions = z.record(z.string(), z.string()).parse(await readYaml(path.join(ansibleDir, 'group_vars/all/versions.yml')));
      for (const key of [
        'kubernetes_version',
        'containerd_version',
        'runc_version',
        'helm_version',
        'flannel_chart_version',
        'metallb_chart_version',
        'ingress_nginx_chart_version',
        'istio_version',
        'kube_prometheus_stack_chart_version',
        'kubernetes_dashboard_chart_version',
      ]) {
        assert.match(versions[key] ?? '', /^v?\d+\.\d+\.\d+$/, `${key} is pinned to an exact release`);
      }
      // No other variables file defines a version.
      const otherVariableFiles = [path.join(ansibleDir, 'group_vars/all/cluster.yml')];
      for (const role of await readdir(path.join(ansibleDir, 'roles'))) {
        for (const folder of ['vars', 'defaults']) {
          const file = path.join(ansibleDir, 'roles', role, folder, 'main.yml');
          if (await readFile(file, 'utf8').then(() => true, () => false)) otherVariableFiles.push(file);
        }
      }
      for (const file of otherVariableFiles) {
        const variables = z.record(z.string(), z.unknown()).parse(await readYaml(file));
        const pinned = Object.entries(variables).filter(([name, value]) => name.endsWith('_version') && typeof value === 'string' && !value.includes('{{'));
        assert.deepEqual(pinned, [], `${path.relative(repositoryRoot, file)} pins a version outside versions.yml`);
      }
    });

    it('waits for the operator Deployment that dist/install.yaml installs, with the pinned operator image', async function () {
      const bundle = await readYamlDocuments(path.join(repositoryRoot, 'dist', 'install.yaml'));
      const deployment = z
        .object({
          kind: z.literal('Deployment'),
          metadata: z.object({ name: z.string(), namespace: z.string() }),
          spec: z.looseObject({ template: z.looseObject({ spec: z.looseObject({ containers: z.array(z.looseObject({ image: z.string() })) }) }) }),
        })
        .parse(bundle.find((object) => z.object({ kind: z.literal('Deployment') }).safeParse(object).success));
      const versions = z.looseObject({ sms_operator_image: z.string() }).parse(await readYaml(path.join(ansibleDir, 'group_vars/all/versions.yml')));
      assert.deepEqual(deployment.spec.template.spec.containers.map((container) => container.image), [versions.sms_operator_image]);
      const cluster = z.looseObject({ operator_namespace: z.string() }).parse(await readYaml(path.join(ansibleDir, 'group_vars/all/cluster.yml')));
      assert.equal(cluster.operator_namespace, deployment.metadata.namespace);
      const operatorTasks = await readFile(path.join(ansibleDir, 'roles/operator/tasks/main.yml'), 'utf8');
      assert.match(operatorTasks, new RegExp(`name: ${deployment.metadata.name}\\n`));
    });
  });

  describe('preflight and model training on the host', function () {
    const dataFile = path.join(process.env.SMS_DATA_DIR ?? path.join(repositoryRoot, '..', 'shared', 'data', 'sms-spam-collection'), 'SMSSpamCollection.train');
    /** Inputs as on a fresh host: no alerting, no data file. */
    const FRESH_HOST: NodeJS.ProcessEnv = { SMS_ALERT_EMAIL_TO: '', SMS_SMTP_PASSWORD: '', SMS_DATA_FILE: '' };
    /** Runs preflight.yml against an empty shared folder of its own. */
    const preflight = (name: string, env: NodeJS.ProcessEnv, extraVars: Record<string, string> = {}) =>
      run('ansible-playbook', ['preflight.yml', '--extra-vars', JSON.stringify({ shared_host_dir: path.join(scratch, name), ...extraVars })], {
        cwd: ansibleDir,
        env: { ...FRESH_HOST, ...env },
      });

    it('stops before changing any VM, naming SMS_DATA_FILE, when a model is missing and no data file is given', async function () {
      this.timeout(120_000);
      const result = await preflight('preflight-empty', {});
      assert.notEqual(result.status, 0, result.output);
      assert.match(result.output.replace(/\s+/g, ' '), /Model v1, v2 is not in \S+ and SMS_DATA_FILE is not set\. Download the SMS Spam Collection/);
    });

    it('stops, naming SMS_SMTP_PASSWORD, when e-mail alerting is on without a password', async function () {
      this.timeout(120_000);
      const result = await preflight('preflight-smtp', { SMS_ALERT_EMAIL_TO: 'oncall@example.com' });
      assert.notEqual(result.status, 0, result.output);
      assert.match(result.output.replace(/\s+/g, ' '), /E-mail alerting is on \(SMS_ALERT_EMAIL_TO=oncall@example\.com\) but SMS_SMTP_PASSWORD is not set/);
    });

    it('stops when a node would take a MetalLB address', async function () {
      this.timeout(120_000);
      const result = await preflight('preflight-address', {}, { node_ip: NGINX_ADDRESS });
      assert.notEqual(result.status, 0, result.output);
      assert.match(result.output.replace(/\s+/g, ' '), /other than the MetalLB addresses 192\.168\.56\.95 and 192\.168\.56\.96/);
    });

    it('trains v1 and v2 into the shared folder on the host, and a second run changes nothing', async function () {
      if (!(await readFile(dataFile).then(() => true, () => false))) {
        console.log(`      (skipped: no data file at ${dataFile}; set SMS_DATA_DIR to the folder holding SMSSpamCollection.train)`);
        this.skip();
      }
      this.timeout(300_000);
      const shared = path.join(scratch, 'shared-models');
      const env = { ...FRESH_HOST, SMS_DATA_FILE: dataFile };
      // The project's set-up has run already (this is its test command); on a fresh host the playbook runs it.
      const extraVars = JSON.stringify({ shared_host_dir: shared, model_train_setup: 'true' });
      // Only the host's plays: localhost joins the VMs' inventory so --limit can name it.
      const args = ['experiment.yml', '-i', 'inventory/vagrant.yml', '-i', 'localhost,', '--limit', 'localhost', '--extra-vars', extraVars];
      const first = await run('ansible-playbook', args, { cwd: ansibleDir, env });
      assertSucceeded(first, 'ansible-playbook experiment.yml --limit localhost');
      for (const version of ['v1', 'v2']) {
        const metadata = z.looseObject({ modelVersion: z.string() }).parse(JSON.parse(await readFile(path.join(shared, 'models', version, 'metadata.json'), 'utf8')));
        assert.equal(metadata.modelVersion, version);
        assert.ok((await readFile(path.join(shared, 'models', version, 'model.json'), 'utf8')).length > 0);
      }
      const second = await run('ansible-playbook', args, { cwd: ansibleDir, env });
      assertSucceeded(second, 'the second run');
      assert.equal(recapChanged(second.output), 0, second.output);
    });
  });

  describe('templates rendered with the inventory variables', function () {
    let rendered: string;
    let firstRun: RunResult;

    before(async function () {
      this.timeout(180_000);
      rendered = path.join(scratch, 'rendered');
      firstRun = await renderTemplates(rendered, { alert_email_to: 'oncall@example.com', smtp_password: SAMPLE_SMTP_PASSWORD });
      assertSucceeded(firstRun, 'ansible-playbook render-templates.yml');
    });

    const file = (relative: string) => path.join(rendered, relative);

    it('gives MetalLB exactly the seed addresses, 192.168.56.95 and .96, announced in layer 2', async function () {
      const [pool, advertisement] = await readYamlDocuments(file('metallb/metallb-pool.yaml'));
      const parsedPool = z
        .object({ kind: z.literal('IPAddressPool'), metadata: z.object({ name: z.string() }), spec: z.object({ autoAssign: z.boolean(), addresses: z.array(z.string()) }) })
        .parse(pool);
      assert.deepEqual(parsedPool.spec.addresses, [`${NGINX_ADDRESS}/32`, `${ISTIO_GATEWAY_ADDRESS}/32`]);
      assert.equal(parsedPool.spec.autoAssign, false, 'only Services that ask for one of the addresses get it');
      const parsedAdvertisement = z.object({ kind: z.literal('L2Advertisement'), spec: z.object({ ipAddressPools: z.array(z.string()) }) }).parse(advertisement);
      assert.deepEqual(parsedAdvertisement.spec.ipAddressPools, [parsedPool.metadata.name]);
    });

    it('puts ingress-nginx on 192.168.56.95 and the Istio ingress gateway on .96, labelled as the experiment selects it', async function () {
      const loadBalancer = z.object({ type: z.literal('LoadBalancer'), loadBalancerIP: z.string() });
      const nginx = z.looseObject({ controller: z.looseObject({ service: loadBalancer }) }).parse(await readYaml(file('ingress_nginx/ingress-nginx-values.yaml')));
      assert.equal(nginx.controller.service.loadBalancerIP, NGINX_ADDRESS);
      const gateway = z
        .looseObject({ labels: z.record(z.string(), z.string()), service: loadBalancer })
        .parse(await readYaml(file('istio/istio-gateway-values.yaml')));
      assert.equal(gateway.service.loadBalancerIP, ISTIO_GATEWAY_ADDRESS);
      const defaultSelector = smsExperimentSpecSchema.parse({}).istio.gatewaySelector;
      for (const [key, value] of Object.entries(defaultSelector)) assert.equal(gateway.labels[key], value, `gateway pods carry ${key}=${value}`);
    });

    it('prints /etc/hosts lines that map the six hosts exactly as the seed table does, and their URLs', async function () {
      const lines = (await readFile(file('finalise/etc-hosts'), 'utf8')).split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#'));
      const mapped: Record<string, string> = {};
      for (const line of lines) {
        const [address, ...names] = line.trim().split(/\s+/);
        for (const name of names) mapped[name] = address ?? '';
      }
      assert.deepEqual(mapped, SEED_HOSTS);
      const access = await readFile(file('finalise/access.txt'), 'utf8');
      for (const host of ['sms-app.local', 'stable.sms-app.local', 'canary.sms-app.local', 'sms-nginx.local', 'grafana.local']) {
        assert.ok(access.includes(`http://${host}`), `the access summary names http://${host}`);
      }
      assert.ok(access.includes('https://dashboard.local'));
      for (const line of lines) assert.ok(access.includes(line), `the access summary prints "${line}"`);
    });

    it('names every node by its host-only address and gives kubeadm and Flannel the same pod network', async function () {
      assert.equal(await readFile(file('common/cluster-hosts'), 'utf8'), '192.168.56.100 controller\n192.168.56.101 worker-1\n192.168.56.102 worker-2\n');
      const [init, cluster] = await readYamlDocuments(file('control_plane/kubeadm-config.yaml'));
      const initConfiguration = z.looseObject({ kind: z.literal('InitConfiguration'), localAPIEndpoint: z.object({ advertiseAddress: z.string(), bindPort: z.number() }) }).parse(init);
      assert.equal(initConfiguration.localAPIEndpoint.advertiseAddress, '192.168.56.100');
      const clusterConfiguration = z.looseObject({ kind: z.literal('ClusterConfiguration'), networking: z.object({ podSubnet: z.string(), serviceSubnet: z.string() }) }).parse(cluster);
      const flannel = z.looseObject({ podCidr: z.string(), flannel: z.looseObject({ args: z.array(z.string()) }) }).parse(await readYaml(file('pod_network/flannel-values.yaml')));
      assert.equal(flannel.podCidr, clusterConfiguration.networking.podSubnet);
      assert.ok(flannel.flannel.args.includes('--iface-can-reach=192.168.56.100'), 'Flannel uses the host-only interface, not the NAT one');
      assert.equal((await readFile(file('kubernetes_packages/kubelet-defaults'), 'utf8')).match(/--node-ip=(\S+)/)?.[1], '192.168.56.100');
    });

    it('installs kube-prometheus-stack with its stock selectors, under the release name the operator bundle labels for', async function () {
      const values = z
        .looseObject({
          prometheus: z.looseObject({ prometheusSpec: z.looseObject({}) }),
          grafana: z.looseObject({
            adminPassword: z.string(),
            ingress: z.looseObject({ enabled: z.literal(true), ingressClassName: z.string(), hosts: z.array(z.string()) }),
          }),
        })
        .parse(await readYaml(file('monitoring/kube-prometheus-stack-values.yaml')));
      assert.deepEqual(values.grafana.ingress.hosts, ['grafana.local']);
      assert.equal(values.grafana.ingress.ingressClassName, 'nginx');
      // Nothing overrides what the chart selects: the operator's labels meet the stock selectors.
      const overrides = ['serviceMonitorSelector', 'serviceMonitorSelectorNilUsesHelmValues', 'ruleSelector', 'ruleSelectorNilUsesHelmValues'].filter((key) => key in values.prometheus.prometheusSpec);
      assert.deepEqual(overrides, [], 'Prometheus selector overrides');
      assert.equal('sidecar' in values.grafana, false, 'the Grafana sidecar keeps grafana_dashboard=1 in every namespace');
      assert.equal('alertmanager' in values, false, 'Alertmanager keeps selecting every AlertmanagerConfig');
      assert.equal(DEFAULT_DASHBOARD_LABEL.key, 'grafana_dashboard');
      assert.equal(DEFAULT_DASHBOARD_LABEL.value, '1');
      // The release name the role installs is the one the bundle's operator and ServiceMonitor carry.
      const [task] = z.array(z.looseObject({ 'kubernetes.core.helm': z.looseObject({ name: z.string() }) })).parse(await readYaml(path.join(repositoryRoot, 'ansible/roles/monitoring/tasks/main.yml')));
      assert.equal(task?.['kubernetes.core.helm'].name, '{{ kube_prometheus_stack_release }}');
      const groupVars = z.looseObject({ kube_prometheus_stack_release: z.string() }).parse(await readYaml(path.join(repositoryRoot, 'ansible/group_vars/all/cluster.yml')));
      const bundle = await readFile(path.join(repositoryRoot, 'dist/install.yaml'), 'utf8');
      assert.equal(/name: SMSX_MONITORING_LABELS\s+value: release=(\S+)/.exec(bundle)?.[1], groupVars.kube_prometheus_stack_release, 'the operator labels monitoring objects for this release');
      assert.equal(/kind: ServiceMonitor\nmetadata:\n(?: {2}.*\n)*? {4}release: (\S+)/.exec(bundle)?.[1], groupVars.kube_prometheus_stack_release, "the operator's own ServiceMonitor too");
      // The admin password is generated into the (git-ignored) credentials directory, never committed.
      assert.equal(values.grafana.adminPassword, (await readFile(path.join(rendered, '.credentials', 'grafana-admin-password'), 'utf8')).trim());
      assert.ok(values.grafana.adminPassword.length >= 20);
    });

    it('exposes the Kubernetes dashboard at dashboard.local through NGINX', async function () {
      const [ingress] = await readYamlDocuments(file('dashboard/dashboard-ingress.yaml'));
      const parsed = z
        .looseObject({
          kind: z.literal('Ingress'),
          metadata: z.looseObject({ annotations: z.record(z.string(), z.string()) }),
          spec: z.looseObject({ ingressClassName: z.string(), rules: z.array(z.looseObject({ host: z.string() })) }),
        })
        .parse(ingress);
      assert.equal(parsed.spec.ingressClassName, 'nginx');
      assert.deepEqual(parsed.spec.rules.map((rule) => rule.host), ['dashboard.local']);
      assert.equal(parsed.metadata.annotations['nginx.ingress.kubernetes.io/backend-protocol'], 'HTTPS');
    });

    it('creates the experiment namespace sms-app with Istio sidecar injection', async function () {
      const namespace = z
        .object({ kind: z.literal('Namespace'), metadata: z.object({ name: z.string(), labels: z.record(z.string(), z.string()) }) })
        .parse(await readYaml(file('experiment/namespace.yaml')));
      assert.equal(namespace.metadata.name, 'sms-app');
      assert.equal(namespace.metadata.labels['istio-injection'], 'enabled');
    });

    it('renders a sample SmsExperiment the resource schema accepts, reading /mnt/shared/models and the SMTP Secret the playbook writes', async function () {
      const experiment = smsExperimentSchema.parse(await readYaml(file('experiment/sms-experiment.yaml')));
      assert.equal(experiment.metadata.name, 'sms-app');
      assert.equal(experiment.metadata.namespace, 'sms-app');
      assert.equal(experiment.spec.mode, 'canary');
      assert.deepEqual(experiment.spec.istio.hosts, { experiment: 'sms-app.local', stable: 'stable.sms-app.local', canary: 'canary.sms-app.local' });
      assert.equal(experiment.spec.ingress.host, 'sms-nginx.local');
      assert.equal(experiment.spec.storage.hostPath, MODEL_DIR);
      assert.deepEqual([experiment.spec.traffic.weights.stable, experiment.spec.traffic.weights.canary], [90, 10]);
      const email = experiment.spec.monitoring.email;
      assert.ok(email !== undefined, 'e-mail alerting is on when a recipient is set');
      assert.equal(email.to, 'oncall@example.com');
      const secret = z
        .object({ kind: z.literal('Secret'), metadata: z.object({ name: z.string(), namespace: z.string() }), data: z.record(z.string(), z.string()) })
        .parse(await readYaml(file('experiment/smtp-secret.yaml')));
      assert.deepEqual([secret.metadata.name, secret.metadata.namespace], [email.passwordSecretRef.name, experiment.metadata.namespace]);
      assert.equal(Buffer.from(secret.data[email.passwordSecretRef.key] ?? '', 'base64').toString(), SAMPLE_SMTP_PASSWORD);
    });

    it('changes nothing when rendered a second time', async function () {
      this.timeout(180_000);
      assert.ok(recapChanged(firstRun.output) > 0, 'the first run wrote the files');
      const secondRun = await renderTemplates(rendered, { alert_email_to: 'oncall@example.com', smtp_password: SAMPLE_SMTP_PASSWORD });
      assertSucceeded(secondRun, 'the second render');
      assert.equal(recapChanged(secondRun.output), 0, secondRun.output);
    });

    it('leaves e-mail alerting out of the experiment when no recipient is set', async function () {
      this.timeout(180_000);
      const withoutAlerts = path.join(scratch, 'rendered-without-alerts');
      assertSucceeded(await renderTemplates(withoutAlerts, { alert_email_to: '', render_role: 'experiment' }), 'the render without alerting');
      const experiment = smsExperimentSchema.parse(await readYaml(path.join(withoutAlerts, 'experiment/sms-experiment.yaml')));
      assert.equal(experiment.spec.monitoring.email, undefined);
      assert.equal(experiment.spec.monitoring.enabled, true);
    });
  });
});
