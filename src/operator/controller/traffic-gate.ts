// Make before break: which traffic a pass may route, given which versions can answer now and what
// the live routing already sends where. A version gains traffic (weight, its host, paired model calls,
// mirrored calls) only once its Deployment has available pods of the spec this pass applied; until
// then it keeps what live routing already gives it, never more, and the rest stays with stable.
// Taking traffic away (a rollback, a smaller mirror) is never held back. Pure functions.
import { z } from 'zod';
import type { SmsExperimentSpec } from '../../crd/schema.ts';
import type { LiveObjectReader } from '../apply/applier.ts';
import { isControlledBy, type OwnerRef } from '../kube/objects.ts';
import { VIRTUAL_SERVICE } from '../kube/resources.ts';
import { experimentNames, ROUTE_NAMES, specTraffic, type RetainedSubsets, type TrafficPlan } from '../render/index.ts';
import { canServe, servingBlocker, type DeploymentReadiness } from './readiness.ts';

/** What the live VirtualServices route, as far as gating needs it. */
export interface LiveRouting {
  /** Weight per app subset on the experiment host's weighted route. */
  appWeights: ReadonlyMap<string, number>;
  /** The subset the canary host routes to, if it has a route. */
  canaryHostSubset?: string | undefined;
  /** The model subset calls from canary app pods go to, if paired routing is in place. */
  pairedModelSubset?: string | undefined;
  mirror?: { subset: string; percent: number } | undefined;
  /** Every subset some live route names: the DestinationRules must keep them until it is gone. */
  namedSubsets: RetainedSubsets;
}

const destinationSchema = z.looseObject({ subset: z.string().optional() });
const httpRouteSchema = z.looseObject({
  name: z.string().optional(),
  match: z.array(z.looseObject({ sourceLabels: z.record(z.string(), z.string()).optional() })).optional(),
  route: z.array(z.looseObject({ destination: destinationSchema, weight: z.number().optional() })).optional(),
  mirror: destinationSchema.optional(),
  mirrorPercentage: z.looseObject({ value: z.number() }).optional(),
});
const virtualServiceSchema = z.looseObject({ spec: z.looseObject({ http: z.array(httpRouteSchema).optional() }) });
type HttpRoute = z.output<typeof httpRouteSchema>;

const NO_ROUTING: LiveRouting = { appWeights: new Map(), namedSubsets: { app: [], model: [] } };

function liveRoutes(cache: LiveObjectReader, owner: OwnerRef, name: string): HttpRoute[] {
  const live = cache.get(VIRTUAL_SERVICE, owner.namespace, name);
  if (!live || !isControlledBy(live, owner)) return [];
  const parsed = virtualServiceSchema.safeParse(live);
  return parsed.success ? (parsed.data.spec.http ?? []) : [];
}

function subsetsOf(routes: readonly HttpRoute[]): string[] {
  const subsets = routes.flatMap((route) => [...(route.route ?? []).map((r) => r.destination.subset), route.mirror?.subset]);
  return [...new Set(subsets.filter((subset): subset is string => subset !== undefined))];
}

/** The experiment's live routing, read from the cache (nothing when its VirtualServices do not exist yet). */
export function liveRoutingOf(cache: LiveObjectReader, owner: OwnerRef): LiveRouting {
  const names = experimentNames(owner.name);
  const app = liveRoutes(cache, owner, names.appVirtualService);
  const model = liveRoutes(cache, owner, names.modelVirtualService);
  if (app.length === 0 && model.length === 0) return NO_ROUTING;
  const weighted = app.find((route) => route.name === ROUTE_NAMES.experimentWeighted)?.route ?? [];
  const appWeights = new Map<string, number>();
  for (const { destination, weight } of weighted) {
    if (destination.subset !== undefined) appWeights.set(destination.subset, weight ?? (weighted.length === 1 ? 100 : 0));
  }
  const paired = model.find((route) => route.match?.some((match) => match.sourceLabels !== undefined));
  const mirrored = model.find((route) => route.mirror?.subset !== undefined);
  return {
    appWeights,
    canaryHostSubset: app.find((route) => route.name === ROUTE_NAMES.canaryHost)?.route?.[0]?.destination.subset,
    pairedModelSubset: paired?.route?.[0]?.destination.subset,
    mirror: mirrored?.mirror?.subset === undefined ? undefined : { subset: mirrored.mirror.subset, percent: mirrored.mirrorPercentage?.value ?? 100 },
    namedSubsets: { app: subsetsOf(app), model: subsetsOf(model) },
  };
}

/** The Deployments whose readiness gates traffic, by role; absent when the mode has no such version. */
export interface ServingVersions {
  appCanary?: DeploymentReadiness | undefined;
  modelCanary?: DeploymentReadiness | undefined;
  modelShadow?: DeploymentReadiness | undefined;
}

export interface GatedTraffic {
  plan: TrafficPlan;
  /** One message per held-back piece of traffic, naming the Deployment and what it waits for. */
  held: string[];
}

/** The traffic this pass may route: the spec's, less what versions that cannot answer yet would gain. */
export function gateTraffic(spec: SmsExperimentSpec, versions: ServingVersions, live: LiveRouting): GatedTraffic {
  const wanted = specTraffic(spec);
  const held: string[] = [];
  if (spec.mode === 'shadow') {
    const shadow = versions.modelShadow;
    if (wanted.mirrorPercent === 0 || (shadow !== undefined && canServe(shadow))) return { plan: wanted, held };
    const kept = live.mirror?.subset === spec.model.shadow.version ? Math.min(live.mirror.percent, wanted.mirrorPercent) : 0;
    held.push(`mirroring held at ${kept}% (spec ${wanted.mirrorPercent}%): ${blocker(shadow, 'shadow model')}`);
    return { plan: { ...wanted, mirrorPercent: kept }, held };
  }

  const appCanary = spec.app.canary.version;
  const modelCanary = spec.model.canary.version;
  const modelReady = versions.modelCanary !== undefined && canServe(versions.modelCanary);
  // The app canary's users call the model through paired routing: it waits for its model as well.
  const appReady = versions.appCanary !== undefined && canServe(versions.appCanary) && modelReady;
  const why = () =>
    [versions.appCanary && !canServe(versions.appCanary) ? servingBlocker(versions.appCanary) : undefined, modelReady ? undefined : blocker(versions.modelCanary, 'canary model')]
      .filter((reason) => reason !== undefined)
      .join('; ');

  let { weights, canaryHost, pairedModel } = wanted;
  if (!appReady && weights.canary > 0) {
    const kept = Math.min(live.appWeights.get(appCanary) ?? 0, weights.canary);
    if (kept !== weights.canary) held.push(`canary weight held at ${kept}% (spec ${weights.canary}%): ${why()}`);
    weights = { stable: 100 - kept, canary: kept };
  }
  if (!appReady && canaryHost && live.canaryHostSubset !== appCanary) {
    canaryHost = false;
    held.push(`canary host not routed yet: ${why()}`);
  }
  if (!modelReady && pairedModel && live.pairedModelSubset !== modelCanary) {
    pairedModel = false;
    held.push(`paired routing to model ${modelCanary} held: ${blocker(versions.modelCanary, 'canary model')}`);
  }
  return { plan: { ...wanted, weights, canaryHost, pairedModel }, held };
}

function blocker(deployment: DeploymentReadiness | undefined, role: string): string {
  return deployment === undefined ? `the ${role} has no Deployment` : servingBlocker(deployment);
}

/** DestinationRule subsets to keep while this pass replaces routing that still names them. */
export function retainedSubsets(live: LiveRouting): RetainedSubsets {
  return live.namedSubsets;
}
