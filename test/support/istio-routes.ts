// Istio's own translation of rendered objects, through hack/cluster/modules/istio-routes (built by
// hack/cluster/build.sh): istiod's xDS generation for a given proxy, then each request walked
// through the generated Envoy routes. The answer is what Envoy would be sent, not what the project
// believes a VirtualService means.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { z } from 'zod';
import { loadToolchain } from '../../hack/cluster/toolchain.ts';
import type { Labels } from '../../src/operator/render/index.ts';

/** What the translation needs of an object: rendered ones and live ones read back both fit. */
export interface KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: { name?: string; namespace?: string; labels?: Labels; annotations?: Record<string, string> };
  spec?: unknown;
}

const execFileAsync = promisify(execFile);

export const GATEWAY_LABELS: Labels = { app: 'istio-ingressgateway', istio: 'ingressgateway' };

export type Via = { kind: 'gateway' } | { kind: 'sidecar'; labels: Labels; namespace: string };

export interface IstioRequest {
  id: string;
  via: Via;
  /** The listener port: the Gateway server's (80) or the called Service's. */
  port: number;
  /** The Host / :authority header, possibly with a port. */
  host: string;
  headers?: Record<string, string>;
}

const headerValueSchema = z.object({ header: z.string(), value: z.string(), append: z.string() });

const outcomeSchema = z.object({
  id: z.string(),
  routeConfiguration: z.string(),
  virtualHost: z.string().optional(),
  route: z.string().optional(),
  matched: z.boolean(),
  clusters: z.array(
    z.object({
      cluster: z.string(),
      weight: z.number(),
      responseHeadersToAdd: z.array(headerValueSchema),
      requestHeadersToAdd: z.array(headerValueSchema),
    }),
  ),
  routeResponseHeadersToAdd: z.array(headerValueSchema),
  mirrors: z.array(z.object({ cluster: z.string(), percent: z.number(), hostSuffixAppended: z.boolean() })),
  directResponseStatus: z.number().optional(),
});

const answerSchema = z.object({
  istio: z.object({ releaseLine: z.string(), moduleVersion: z.string(), disableShadowHostSuffix: z.boolean() }),
  outcomes: z.array(outcomeSchema),
});

export type EnvoyOutcome = z.infer<typeof outcomeSchema>;
export type IstioAnswer = z.infer<typeof answerSchema>;

const ISTIO_KINDS = new Set(['Gateway', 'VirtualService', 'DestinationRule']);
const KUBERNETES_KINDS = new Set(['Service', 'Ingress']);

/** The pods the experiment's Deployments would run: one per Deployment, with its template's labels. */
function podsOf(objects: readonly KubernetesObject[]): unknown[] {
  let address = 10;
  return objects.flatMap((object) => {
    if (object.kind !== 'Deployment') return [];
    address += 1;
    const { template } = object.spec as { template: { metadata?: { labels?: Labels }; spec?: unknown } };
    return [
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `${object.metadata.name}-0`, namespace: object.metadata.namespace, labels: template.metadata?.labels ?? {} },
        spec: template.spec,
        status: { phase: 'Running', podIP: `10.0.0.${address}`, conditions: [{ type: 'Ready', status: 'True' }] },
      },
    ];
  });
}

/** Runs Istio's translation of the objects for every request. */
export async function routeThroughIstio(
  objects: readonly KubernetesObject[],
  requests: IstioRequest[],
  /** istiod's environment, e.g. DISABLE_SHADOW_HOST_SUFFIX (a mesh setting). */
  istiodEnvironment: Record<string, string> = {},
): Promise<IstioAnswer> {
  const { istioRoutes } = await loadToolchain();
  if (istioRoutes === undefined) throw new Error('istio-routes is not built: run hack/cluster/build.sh --with-istio-routes (hack/test.sh does)');
  // Only what a user writes: live objects' status and managedFields are not Istio's input.
  const essentials = ({ apiVersion, kind, metadata, spec }: KubernetesObject) => {
    const { name, namespace, labels, annotations } = metadata;
    return { apiVersion, kind, metadata: { name, namespace, labels, annotations }, spec };
  };
  const input = {
    config: objects.filter((object) => ISTIO_KINDS.has(object.kind)).map(essentials),
    kubernetes: [...objects.filter((object) => KUBERNETES_KINDS.has(object.kind)).map(essentials), ...podsOf(objects)],
    requests: requests.map(({ id, via, port, host, headers }) => ({
      id,
      proxy: via.kind === 'gateway' ? { kind: 'gateway', labels: GATEWAY_LABELS, namespace: 'istio-system' } : via,
      port,
      host,
      path: '/',
      headers: headers ?? {},
    })),
  };
  const child = execFileAsync(istioRoutes, [], { maxBuffer: 64 * 1024 * 1024, env: { ...process.env, ...istiodEnvironment } });
  child.child.stdin?.end(JSON.stringify(input));
  let stdout: string;
  try {
    ({ stdout } = await child);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`istio-routes failed: ${stderr.trim() || String(error)}`, { cause: error });
  }
  const answer = answerSchema.parse(JSON.parse(stdout));
  if (answer.outcomes.length !== requests.length) throw new Error(`istio-routes answered ${answer.outcomes.length} of ${requests.length} requests`);
  return answer;
}

/** An Envoy cluster name, `outbound|<port>|<subset>|<host FQDN>`, taken apart. */
export function parseCluster(name: string): { port: number; subset: string; host: string } {
  const [direction, port, subset, host] = name.split('|');
  if (direction !== 'outbound' || port === undefined || subset === undefined || host === undefined) throw new Error(`not an outbound cluster: ${name}`);
  return { port: Number(port), subset, host };
}

/** subset -> weight of the matched route's destinations ({} when no route matched). */
export function weightsOf(outcome: EnvoyOutcome | undefined): Record<string, number> {
  return Object.fromEntries((outcome?.clusters ?? []).map(({ cluster, weight }) => [parseCluster(cluster).subset, weight]));
}

/** subset -> the Set-Cookie header its responses get, for the destinations that add one. */
export function setCookiesOf(outcome: EnvoyOutcome | undefined): Record<string, string> {
  return Object.fromEntries(
    (outcome?.clusters ?? []).flatMap(({ cluster, responseHeadersToAdd }) =>
      responseHeadersToAdd.filter(({ header }) => header === 'Set-Cookie').map(({ value }) => [parseCluster(cluster).subset, value]),
    ),
  );
}
