// Where hack/cluster/build.sh put the control-plane binaries and assets (its toolchain.json).
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';

const toolchainSchema = z.object({
  kubernetesVersion: z.string(),
  kubeApiserver: z.string(),
  kubeControllerManager: z.string(),
  kubeScheduler: z.string(),
  kubectl: z.string(),
  etcd: z.string(),
  kwok: z.string(),
  istioctl: z.string(),
  /** The Istio release line and module version of istioctl and istio-routes, e.g. "1.31 (v0.0.0-…)". */
  istioVersion: z.string(),
  /** Istio's translation of rendered objects into Envoy routes (hack/cluster/modules/istio-routes); built with --with-istio-routes. */
  istioRoutes: z.string().optional(),
  /** helm, which lints and renders charts/ in the tests (hack/cluster/modules/helm); built with --with-helm. */
  helm: z.string().optional(),
  /** What the real node runs beside the control plane (hack/cluster/real-node.ts); built with --with-real-node. */
  realNode: z
    .object({ kubelet: z.string(), kubeProxy: z.string(), coredns: z.string(), pause: z.string() })
    .optional(),
  crdDir: z.string(),
  kwokStages: z.string(),
});

export type Toolchain = z.infer<typeof toolchainSchema>;

export function cacheDir(): string {
  return (
    process.env.SMSX_CACHE_DIR ??
    path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'sms-experiment')
  );
}

export async function loadToolchain(): Promise<Toolchain> {
  const file = path.join(cacheDir(), 'cluster', 'toolchain.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new Error(`No control-plane toolchain at ${file}: run hack/cluster/build.sh first`);
  }
  return toolchainSchema.parse(JSON.parse(text));
}
