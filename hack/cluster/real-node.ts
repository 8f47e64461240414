// One real node beside the kwok fakes: containerd (own config, state and socket under the run
// folder), a CNI bridge, a kubelet that registers the node, kube-proxy (iptables) and CoreDNS as a
// host process answering cluster.local on the bridge's address. Pods scheduled onto it really run.
//
// What this machine needs for it (measured): kubelet 1.37 on cgroup v1 only with failCgroupV1:
// false; containerd's CRI with restrict_oom_score_adj (no CAP_SYS_RESOURCE here, so runc cannot give
// the sandbox a negative oom_score_adj); a locally built pause image (no registry serves one);
// images imported from OCI archives; a node IP that is not loopback (the bridge's own address).
//
// Everything it makes is removed on stop, also when the owner dies (the reaper runs the cleanup
// script): pods and shims, the bridge, the pods' network namespaces, cgroups and the KUBE-* rules.
// Only one real node runs per machine at a time: kube-proxy's rules and port 53 are per machine.
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, writeFile, copyFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { startProcess, type ManagedProcess } from './processes.ts';
import { freePort } from './ports.ts';
import { cacheDir, type Toolchain } from './toolchain.ts';

const execFileAsync = promisify(execFile);

export const REAL_NODE_NAME = 'real-node';
/** Label and NoSchedule taint of the real node: only pods that ask for it (nodeSelector + toleration) go there. */
export const REAL_NODE_LABEL = 'sms-experiment.local/real-node';
export const CNI_BIN_DIR = '/usr/lib/cni';
const LOCK_FILE = '/run/sms-experiment-real-node.lock';
const PODMAN = ['--runtime', 'runc', '--cgroup-manager=cgroupfs'];
/** cgroup v1 hierarchies the kubelet's cgroupfs driver uses (cgroupRoot must exist in each). */
const CGROUP_CONTROLLERS = ['cpu', 'cpuacct', 'cpuset', 'memory', 'pids', 'hugetlb', 'blkio', 'devices', 'freezer', 'systemd'];

/** The pod spec fields that put a pod on the real node. */
export const realNodePlacement = {
  nodeSelector: { [REAL_NODE_LABEL]: 'true' },
  tolerations: [{ key: REAL_NODE_LABEL, operator: 'Equal', value: 'true', effect: 'NoSchedule' }],
};

export interface RealNodeOptions {
  toolchain: Toolchain;
  /** The control plane's run folder; the node's files go to runDir/node. */
  runDir: string;
  kubeconfigPath: string;
  /** The cluster CA: the kubelet accepts client certificates it signed (the API server's). */
  caCert: string;
  /** The Service ClusterIP range: the pods' only route off the bridge, to kube-proxy's rules. */
  serviceCidr: string;
  /** podman images to load into the node's containerd (e.g. ghcr.io/sms-experiment/app:0.1.0). */
  images?: string[];
  log?: (line: string) => void;
}

export interface RealNode {
  name: string;
  /** The bridge's address: node IP, kubelet and CoreDNS listen here. */
  nodeIp: string;
  podCidr: string;
  bridge: string;
  containerdSocket: string;
  processes: ManagedProcess[];
  timings: Record<string, number>;
  /** Runs ctr against the node's containerd (namespace k8s.io). */
  ctr(args: string[]): Promise<string>;
  /** Loads a podman image into the node's containerd. */
  loadImage(image: string): Promise<void>;
  stop(): Promise<void>;
}

/** The real node cannot run here; the message says exactly why. */
export class RealNodeUnavailable extends Error {
  override name = 'RealNodeUnavailable';
}

function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function lockOwner(): string | undefined {
  let text: string;
  try {
    text = readFileSync(LOCK_FILE, 'utf8');
  } catch {
    return undefined;
  }
  const [pid, dir] = text.trim().split(/\s+/);
  const alive = pid !== undefined && spawnSync('kill', ['-0', pid], { stdio: 'ignore' }).status === 0;
  return alive ? `pid ${pid}, run folder ${dir ?? '?'}` : undefined;
}

/** Why the real node cannot start on this machine, or undefined when it can try. */
export function realNodeUnavailableReason(toolchain: Toolchain): string | undefined {
  if (process.platform !== 'linux') return `the real node needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'the real node needs root (containerd, network namespaces, iptables, cgroups)';
  if (!toolchain.realNode) return 'kubelet, kube-proxy, CoreDNS and pause are not built (hack/cluster/build.sh --with-real-node)';
  const packages: Array<[string, string]> = [
    ['containerd', 'containerd'], ['containerd-shim-runc-v2', 'containerd'], ['ctr', 'containerd'], ['runc', 'runc'],
    ['iptables', 'iptables'], ['ip', 'iproute2'], ['podman', 'podman'],
  ];
  for (const [command, pkg] of packages) {
    if (!onPath(command)) return `${command} is not installed (Debian package ${pkg})`;
  }
  for (const plugin of ['bridge', 'host-local', 'loopback']) {
    if (!existsSync(path.join(CNI_BIN_DIR, plugin))) return `the CNI plugin ${CNI_BIN_DIR}/${plugin} is missing (Debian package containernetworking-plugins)`;
  }
  if (!existsSync('/proc/sys/net/bridge/bridge-nf-call-iptables')) {
    return 'the kernel has no br_netfilter (/proc/sys/net/bridge is missing): kube-proxy\'s Service rules would not see bridged pod traffic';
  }
  if (!existsSync('/sys/fs/cgroup/memory') || !existsSync('/sys/fs/cgroup/pids')) {
    return 'this machine has no cgroup v1 memory and pids hierarchies (the node is set up for cgroup v1 with the cgroupfs driver)';
  }
  const owner = lockOwner();
  if (owner) return `another real node runs on this machine (${owner}); kube-proxy's rules and port 53 are per machine`;
  // The stop removes every KUBE-* chain (kube-proxy names them by hash): on a machine that is a
  // Kubernetes node of its own, that would take its Service rules with ours.
  const nat = spawnSync('iptables', ['-w', '-t', 'nat', '-S'], { encoding: 'utf8' }).stdout ?? '';
  const chains = nat.split('\n').filter((line) => line.startsWith('-N KUBE-')).length;
  if (chains > 0) {
    return `this machine already has ${chains} KUBE-* chains in iptables' nat table (a kube-proxy of its own, or a real node's leftovers); the real node's stop removes every KUBE-* chain, so it does not start (iptables -t nat -S | grep KUBE- lists them)`;
  }
  return undefined;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function run(command: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync(command, args, { maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`${command} ${args.join(' ')} failed: ${stderr.trim() || String(error)}`, { cause: error });
  }
}

async function tail(file: string, lines = 15): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').slice(-lines).join('\n');
}

/** A /24 in 10.200.0.0/16 that no interface on this machine uses. */
async function freeSubnet(): Promise<number> {
  const used = await run('ip', ['-4', '-o', 'addr', 'show']);
  for (let third = 1; third < 255; third += 1) {
    if (!used.includes(` 10.200.${third}.`)) return third;
  }
  throw new RealNodeUnavailable('no free /24 in 10.200.0.0/16 for the pod bridge');
}

/**
 * The removal of everything the node made, as a shell script: the orderly stop runs it after
 * stopping the processes, and the reaper runs it if the owner died. Idempotent.
 */
function cleanupScript(values: { nodeDir: string; socket: string; bridge: string; cgroupRoot: string; lockPid: number }): string {
  const { nodeDir, socket, bridge, cgroupRoot, lockPid } = values;
  return `#!/bin/sh
# Removes what the real node of this run made. Run by its stop and by the reaper; safe to rerun.
node_dir='${nodeDir}'; socket='${socket}'; bridge='${bridge}'; cgroup_root='${cgroupRoot}'
# Containers and pause processes: every process in the node's cgroups, twice (a dying shim may fork).
for pass in 1 2; do
  for procs in $(find /sys/fs/cgroup/*/"$cgroup_root" -name cgroup.procs 2>/dev/null); do
    for pid in $(cat "$procs" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
  done
  # The shims of this containerd: their command line names its socket.
  for cmdline in /proc/[0-9]*/cmdline; do
    if tr '\\0' ' ' < "$cmdline" 2>/dev/null | grep -q -- "-address $socket "; then
      pid="\${cmdline#/proc/}"; kill -KILL "\${pid%/cmdline}" 2>/dev/null
    fi
  done
  sleep 0.3
done
# Mounts under the node folder (rootfs, shm, the pods' network namespaces, volumes), deepest first.
awk -v dir="$node_dir/" 'index($5, dir) == 1 { print $5 }' /proc/self/mountinfo | sort -r | while read -r mount; do
  umount -l "$mount" 2>/dev/null
done
for pass in 1 2 3; do
  find /sys/fs/cgroup/*/"$cgroup_root" -depth -type d -exec rmdir {} \\; 2>/dev/null
  [ -z "$(find /sys/fs/cgroup/*/"$cgroup_root" -maxdepth 0 2>/dev/null)" ] && break
  sleep 0.5
done
ip link delete "$bridge" 2>/dev/null
# The guard that keeps pod traffic on the bridge, then the kubelet's and kube-proxy's KUBE-* rules.
iptables -w -D FORWARD -i "$bridge" ! -o "$bridge" -j DROP 2>/dev/null
for tool in iptables ip6tables; do
  command -v "$tool" >/dev/null || continue
  for table in filter nat mangle; do
    "$tool" -w -t "$table" -S 2>/dev/null | grep -E '^-A [A-Z]+ .*-j KUBE-' | while read -r rule; do
      eval "$tool -w -t $table -D \${rule#-A }" 2>/dev/null
    done
    chains="$("$tool" -w -t "$table" -S 2>/dev/null | sed -n 's/^-N \\(KUBE-[^ ]*\\)$/\\1/p')"
    for chain in $chains; do "$tool" -w -t "$table" -F "$chain" 2>/dev/null; done
    for chain in $chains; do "$tool" -w -t "$table" -X "$chain" 2>/dev/null; done
  done
done
rm -rf "$node_dir/containerd" "$node_dir/kubelet"
if [ -f ${LOCK_FILE} ] && [ "$(cut -d' ' -f1 ${LOCK_FILE})" = "${lockPid}" ]; then rm -f ${LOCK_FILE}; fi
exit 0
`;
}

/** cgroupRoot must exist in every hierarchy; a new cpuset group starts empty and needs its parent's sets. */
async function createCgroupRoot(cgroupRoot: string): Promise<void> {
  for (const controller of CGROUP_CONTROLLERS) {
    const base = path.join('/sys/fs/cgroup', controller);
    if (!existsSync(base)) continue;
    const dir = path.join(base, cgroupRoot);
    await mkdir(dir, { recursive: true });
    if (controller === 'cpuset') {
      for (const file of ['cpuset.cpus', 'cpuset.mems']) await writeFile(path.join(dir, file), await readFile(path.join(base, file), 'utf8'));
    }
  }
}

/** The pause image: the static pause binary alone, built with podman once per binary. */
async function ensurePauseImage(pauseBinary: string): Promise<string> {
  const key = createHash('sha256').update(await readFile(pauseBinary)).digest('hex').slice(0, 12);
  const image = `localhost/sms-experiment/pause:${key}`;
  if (spawnSync('podman', [...PODMAN, 'image', 'exists', image]).status === 0) return image;
  const context = await mkdtemp(path.join(path.dirname(pauseBinary), 'image-'));
  try {
    await copyFile(pauseBinary, path.join(context, 'pause'));
    await chmod(path.join(context, 'pause'), 0o755);
    await writeFile(path.join(context, 'Containerfile'), 'FROM scratch\nCOPY pause /pause\nUSER 65535:65535\nENTRYPOINT ["/pause"]\n');
    await run('podman', [...PODMAN, 'build', '--quiet', '-t', image, '-f', path.join(context, 'Containerfile'), context]);
  } finally {
    await rm(context, { recursive: true, force: true });
  }
  return image;
}

/** An OCI archive of a podman image, cached by image id (importing it again is what each run pays). */
async function ociArchive(image: string, cacheDir: string): Promise<string> {
  const id = (await run('podman', [...PODMAN, 'image', 'inspect', '--format', '{{.Id}}', image]).catch(() => {
    throw new RealNodeUnavailable(`the image ${image} is not built (hack/images.sh builds the project's images)`);
  })).trim();
  const archive = path.join(cacheDir, `${id.slice(0, 16)}.tar`);
  if (existsSync(archive)) return archive;
  await mkdir(cacheDir, { recursive: true });
  const partial = `${archive}.partial`;
  await rm(partial, { force: true });
  await run('podman', [...PODMAN, 'save', '--quiet', '--format', 'oci-archive', '-o', partial, image]);
  await rename(partial, archive);
  return archive;
}

export async function startRealNode(options: RealNodeOptions): Promise<RealNode> {
  const { toolchain, runDir, kubeconfigPath } = options;
  const log = options.log ?? (() => undefined);
  const reason = realNodeUnavailableReason(toolchain);
  if (reason !== undefined || !toolchain.realNode) throw new RealNodeUnavailable(reason ?? 'not built');
  const binaries = toolchain.realNode;
  const timings: Record<string, number> = {};
  let phaseStart = Date.now();
  const mark = (phase: string) => {
    timings[phase] = Date.now() - phaseStart;
    phaseStart = Date.now();
    log(`${phase} (${timings[phase]} ms)`);
  };

  const nodeDir = path.join(runDir, 'node');
  const id = createHash('sha256').update(runDir).digest('hex').slice(0, 8);
  const bridge = `smsx${id}`;
  const cgroupRoot = `/sms-experiment-${id}`;
  const third = await freeSubnet();
  const nodeIp = `10.200.${third}.1`;
  const podCidr = `10.200.${third}.0/24`;
  const containerdDir = path.join(nodeDir, 'containerd');
  const socket = path.join(containerdDir, 'containerd.sock');
  const cleanupPath = path.join(runDir, 'cleanup-real-node.sh');
  await mkdir(path.join(nodeDir, 'cni', 'net.d'), { recursive: true });
  await mkdir(containerdDir, { recursive: true });
  // A lock whose owner is gone is stale (that owner's reaper cleans up after it).
  if (existsSync(LOCK_FILE) && lockOwner() === undefined) rmSync(LOCK_FILE, { force: true });
  await writeFile(LOCK_FILE, `${process.pid} ${runDir}\n`, { flag: 'wx' }).catch(() => {
    throw new RealNodeUnavailable(`another real node runs on this machine (${lockOwner() ?? LOCK_FILE}); kube-proxy's rules and port 53 are per machine`);
  });
  await writeFile(cleanupPath, cleanupScript({ nodeDir, socket, bridge, cgroupRoot, lockPid: process.pid }), { mode: 0o755 });

  const processes: ManagedProcess[] = [];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // The kubelet first, so that it restarts nothing; the containers go with the cleanup.
    for (const child of [...processes].reverse()) await child.stop(3000);
    spawnSync('sh', [cleanupPath], { stdio: 'ignore' });
    rmSync(cleanupPath, { force: true });
  };

  try {
    // The bridge first: its address is the node IP the kubelet registers and CoreDNS binds.
    await run('ip', ['link', 'add', 'name', bridge, 'type', 'bridge']);
    await run('ip', ['addr', 'add', `${nodeIp}/24`, 'dev', bridge]);
    await run('ip', ['link', 'set', bridge, 'up']);
    // Pods reach Service ClusterIPs through the host (kube-proxy's DNAT), so packets arriving on the
    // bridge are forwarded, on this interface only; the guard drops any that would leave the bridge,
    // so pod traffic never goes beyond this machine's pod addresses.
    await writeFile(`/proc/sys/net/ipv4/conf/${bridge}/forwarding`, '1');
    await run('iptables', ['-w', '-I', 'FORWARD', '1', '-i', bridge, '!', '-o', bridge, '-j', 'DROP']);
    await createCgroupRoot(cgroupRoot);
    await writeFile(path.join(nodeDir, 'cni', 'net.d', '10-sms-experiment.conflist'), JSON.stringify({
      cniVersion: '0.4.0',
      name: 'sms-experiment',
      plugins: [{
        type: 'bridge', bridge, isGateway: true, ipMasq: false, hairpinMode: true,
        // No default route: besides the bridge, pods reach only Service ClusterIPs (through the host).
        ipam: { type: 'host-local', ranges: [[{ subnet: podCidr, gateway: nodeIp }]], routes: [{ dst: options.serviceCidr }], dataDir: path.join(nodeDir, 'cni', 'ipam') },
      }],
    }, null, 2));
    mark('Created the pod bridge');

    const pauseImage = await ensurePauseImage(binaries.pause);
    const containerdConfig = path.join(containerdDir, 'config.toml');
    await writeFile(containerdConfig, `version = 2
root = "${path.join(containerdDir, 'root')}"
state = "${path.join(containerdDir, 'state')}"
# Plugins that would write outside the run folder or need what this machine lacks.
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "${socket}"
[ttrpc]
  address = "${socket}.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${pauseImage}"
  restrict_oom_score_adj = true
  disable_apparmor = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "${CNI_BIN_DIR}"
    conf_dir = "${path.join(nodeDir, 'cni', 'net.d')}"
`);
    const containerd = startProcess({ name: 'containerd', command: 'containerd', args: ['--config', containerdConfig], runDir });
    processes.push(containerd);
    const ctr = (args: string[]) => run('ctr', ['--address', socket, '--namespace', 'k8s.io', ...args]);
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (await ctr(['version']).then(() => true, () => false)) break;
      if (Date.now() > deadline || containerd.pid === undefined) {
        throw new Error(`containerd did not answer on ${socket} within 30 s; last log lines:\n${await tail(containerd.logFile)}`);
      }
      await sleep(200);
    }
    mark('Started containerd');

    const archives = path.join(cacheDir(), 'images', 'oci');
    const loadImage = async (image: string) => {
      await ctr(['images', 'import', await ociArchive(image, archives)]);
    };
    await loadImage(pauseImage);
    for (const image of options.images ?? []) await loadImage(image);
    mark(`Loaded ${1 + (options.images?.length ?? 0)} images into containerd`);

    const [kubeletPort, kubeletHealthPort, proxyHealthPort, proxyMetricsPort, dnsHealthPort, dnsReadyPort] = await freePorts(6);
    const resolvConf = path.join(nodeDir, 'resolv.conf');
    await writeFile(resolvConf, '');
    const kubeletConfig = path.join(nodeDir, 'kubelet.yaml');
    await writeFile(kubeletConfig, stringify({
      apiVersion: 'kubelet.config.k8s.io/v1beta1',
      kind: 'KubeletConfiguration',
      // Kubernetes 1.37 still supports cgroup v1 when asked; this machine has only v1.
      failCgroupV1: false,
      cgroupDriver: 'cgroupfs',
      cgroupRoot,
      containerRuntimeEndpoint: `unix://${socket}`,
      address: nodeIp,
      port: kubeletPort,
      readOnlyPort: 0,
      healthzBindAddress: '127.0.0.1',
      healthzPort: kubeletHealthPort,
      // The API server's client certificate (signed by the cluster CA) is checked; the rest is refused.
      authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: options.caCert } },
      authorization: { mode: 'Webhook' },
      clusterDomain: 'cluster.local',
      clusterDNS: [nodeIp],
      resolvConf,
      registerWithTaints: [{ key: REAL_NODE_LABEL, value: 'true', effect: 'NoSchedule' }],
      podLogsDir: path.join(nodeDir, 'pod-logs'),
      failSwapOn: false,
      // The images are imported, not pulled: never collect them, and never evict for a full disk.
      imageGCHighThresholdPercent: 100,
      imageGCLowThresholdPercent: 99,
      evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '1%', 'imagefs.available': '1%' },
      shutdownGracePeriod: '0s',
      serializeImagePulls: false,
      syncFrequency: '10s',
    }));
    const kubelet = startProcess({
      name: 'kubelet',
      command: binaries.kubelet,
      runDir,
      args: [
        `--config=${kubeletConfig}`, `--kubeconfig=${kubeconfigPath}`, `--root-dir=${path.join(nodeDir, 'kubelet')}`,
        `--cert-dir=${path.join(nodeDir, 'kubelet-pki')}`, `--hostname-override=${REAL_NODE_NAME}`, `--node-ip=${nodeIp}`,
        `--node-labels=${REAL_NODE_LABEL}=true`, '--v=1',
      ],
    });
    processes.push(kubelet);

    const proxyConfig = path.join(nodeDir, 'kube-proxy.yaml');
    await writeFile(proxyConfig, stringify({
      apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
      kind: 'KubeProxyConfiguration',
      clientConnection: { kubeconfig: kubeconfigPath },
      hostnameOverride: REAL_NODE_NAME,
      mode: 'iptables',
      clusterCIDR: podCidr,
      detectLocalMode: 'ClusterCIDR',
      healthzBindAddress: `127.0.0.1:${proxyHealthPort}`,
      metricsBindAddress: `127.0.0.1:${proxyMetricsPort}`,
      nodePortAddresses: [`${nodeIp}/32`],
      // Zeros leave the machine's conntrack sysctls as they are; no route_localnet either.
      conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
      iptables: { localhostNodePorts: false },
    }));
    processes.push(startProcess({ name: 'kube-proxy', command: binaries.kubeProxy, runDir, args: [`--config=${proxyConfig}`, '--v=1'] }));

    const corefile = path.join(nodeDir, 'Corefile');
    await writeFile(corefile, `# Cluster DNS for the real node's pods: cluster.local from the API server, nothing forwarded.
cluster.local:53 in-addr.arpa:53 {
    bind ${nodeIp}
    errors
    health 127.0.0.1:${dnsHealthPort}
    ready 127.0.0.1:${dnsReadyPort}
    cache 5
    kubernetes cluster.local in-addr.arpa {
        kubeconfig ${kubeconfigPath}
        pods insecure
    }
}
`);
    const coredns = startProcess({ name: 'coredns', command: binaries.coredns, runDir, args: ['-conf', corefile] });
    processes.push(coredns);

    const kubectl = (args: string[]) => run(toolchain.kubectl, ['--kubeconfig', kubeconfigPath, ...args]);
    await waitUntil('the kubelet registers the node', 60_000, kubelet, () => kubectl(['get', 'node', REAL_NODE_NAME]).then(() => true));
    await kubectl(['wait', '--for=condition=Ready', `node/${REAL_NODE_NAME}`, '--timeout=60s']).catch(async (error: unknown) => {
      throw new Error(`${String(error)}\nkubelet log:\n${await tail(kubelet.logFile)}`, { cause: error });
    });
    mark('Kubelet registered the node, Ready');
    await waitUntil('CoreDNS is ready', 30_000, coredns, () => fetch(`http://127.0.0.1:${dnsReadyPort}/ready`).then((response) => response.ok));
    mark('CoreDNS ready');

    return { name: REAL_NODE_NAME, nodeIp, podCidr, bridge, containerdSocket: socket, processes, timings, ctr, loadImage, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function waitUntil(what: string, timeoutMs: number, owner: ManagedProcess, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: number | string | undefined;
  void owner.exited.then((code) => (exited = code));
  while (Date.now() < deadline) {
    if (exited !== undefined) throw new Error(`${what}: ${owner.name} exited with ${exited}; last log lines:\n${await tail(owner.logFile)}`);
    if (await probe().catch(() => false)) return;
    await sleep(250);
  }
  throw new Error(`${what}: not within ${timeoutMs / 1000} s; last lines of ${owner.name}'s log:\n${await tail(owner.logFile)}`);
}

async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}
