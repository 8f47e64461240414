// A load generator that follows the live VirtualServices, standing in for Envoy (which cannot run
// here): every batch it reads the experiment's app VirtualService from the API server and splits its
// requests by the weights of the experiment host's weighted route, and reads the model
// VirtualService's mirror to copy that share of the stable app's model calls to the shadow. So when
// the operator moves a step, rolls back or promotes, the traffic the apps see moves the same way.
// It records, per batch, the weights it followed, so tests can show what each step routed.
import type { LabelledMessage } from '../../src/model/dataset.ts';
import type { KubeClient } from '../../src/operator/kube/client.ts';
import { VIRTUAL_SERVICE } from '../../src/operator/kube/resources.ts';
import { experimentNames, ROUTE_NAMES } from '../../src/operator/render/index.ts';
import { emptyTally, runSplitLoad, type LoadTally } from './split-load.ts';

export interface FollowedRouting {
  /** Weight per app version on the experiment host's weighted route. */
  weights: Record<string, number>;
  /** The shadow subset and share mirrored, if any. */
  mirror?: { version: string; percent: number } | undefined;
}

interface Route {
  name?: string;
  route?: Array<{ destination?: { subset?: string }; weight?: number }>;
  mirror?: { subset?: string };
  mirrorPercentage?: { value?: number };
}

async function routesOf(client: KubeClient, namespace: string, name: string): Promise<Route[]> {
  const live = (await client.get(VIRTUAL_SERVICE, { namespace, name })) as { spec?: { http?: Route[] } } | undefined;
  return live?.spec?.http ?? [];
}

/** What Envoy would route now, from the live VirtualServices. */
export async function liveRouting(client: KubeClient, namespace: string, experiment: string): Promise<FollowedRouting> {
  const names = experimentNames(experiment);
  const app = await routesOf(client, namespace, names.appVirtualService);
  // Canary mode weighs the experiment host's route; shadow mode sends it all to stable.
  const weighted = app.find((route) => route.name === ROUTE_NAMES.experimentWeighted || route.name === ROUTE_NAMES.experimentStable)?.route ?? [];
  const weights: Record<string, number> = {};
  for (const destination of weighted) {
    const subset = destination.destination?.subset;
    if (subset !== undefined) weights[subset] = destination.weight ?? (weighted.length === 1 ? 100 : 0);
  }
  const mirrored = (await routesOf(client, namespace, names.modelVirtualService)).find((route) => route.mirror?.subset !== undefined);
  const mirror = mirrored?.mirror?.subset === undefined ? undefined : { version: mirrored.mirror.subset, percent: mirrored.mirrorPercentage?.value ?? 100 };
  return { weights, mirror };
}

export interface FollowingLoadOptions {
  client: KubeClient;
  namespace: string;
  experiment: string;
  /** App version → base URL; versions the routing names but that are missing here get no requests. */
  apps: Record<string, string>;
  /** The stable app's version, whose model calls are mirrored, and the shadow model's URL. */
  shadow?: { stableVersion: string; url: string };
  messages: readonly LabelledMessage[];
  requestsPerSecond: number;
  /** Requests per batch: the routing is read again between batches. */
  batch?: number;
  seed?: number;
}

export interface FollowingLoad {
  tally: LoadTally;
  /** Each batch's routing, with when it started (ms since the epoch). */
  followed: Array<{ at: number; routing: FollowedRouting; requests: number }>;
  stop(): Promise<void>;
}

export function startFollowingLoad(options: FollowingLoadOptions): FollowingLoad {
  const { client, namespace, experiment, apps, messages, requestsPerSecond, batch = Math.max(10, Math.round(requestsPerSecond / 4)) } = options;
  const versions = Object.keys(apps);
  const tally = emptyTally(versions);
  const followed: FollowingLoad['followed'] = [];
  let stopped = false;
  let seed = options.seed ?? 1;
  const loop = (async () => {
    while (!stopped) {
      const routing = await liveRouting(client, namespace, experiment);
      const weights = Object.fromEntries(versions.map((version) => [version, routing.weights[version] ?? 0]));
      if (Object.values(weights).every((weight) => weight === 0)) {
        // No routing yet (or none to these apps): nothing would reach them.
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      followed.push({ at: Date.now(), routing, requests: batch });
      const mirror = routing.mirror && options.shadow ? { version: options.shadow.stableVersion, shadowUrl: options.shadow.url, percent: routing.mirror.percent } : undefined;
      await runSplitLoad({ apps, weights, messages, requests: batch, requestsPerSecond, concurrency: 4, seed: seed++, tally, ...(mirror ? { mirror } : {}) });
    }
  })();
  return {
    tally,
    followed,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}
