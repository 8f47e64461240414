// Istio objects (networking.istio.io/v1): the Gateway, the app VirtualService with host-based,
// sticky and weighted routing, the model VirtualService with paired routing or mirroring, and the
// DestinationRules whose subsets are named after the version labels they select.
import { compareStrings } from '../../common/compare.ts';
import { objectMetadata, type RenderContext } from './context.ts';
import { durationToSeconds } from './duration.ts';
import { ISTIO_APP_LABEL, VERSION_LABEL, standardLabels } from './labels.ts';
import { authorityRegex, stickyCookieHeader, stickyCookieRegex } from './stickiness.ts';
import type {
  DestinationRuleObject,
  GatewayObject,
  GatewayServer,
  HttpRoute,
  HttpRouteDestination,
  Labels,
  VirtualServiceObject,
} from './types.ts';

/**
 * The hosts the Gateway exposes. Shadow mode has no canary app, so the canary host is left out of
 * both the Gateway and the VirtualService (the gateway answers 404) rather than quietly serving the
 * stable version to someone who asked for the canary. Gateway and VirtualService share this list.
 */
/** Route names the controller reads back from live VirtualServices (what traffic is in effect). */
export const ROUTE_NAMES = { canaryHost: 'canary-host', experimentWeighted: 'experiment-weighted', experimentStable: 'experiment-stable' } as const;

export function exposedHosts(context: RenderContext): string[] {
  const { hosts } = context.spec.istio;
  return context.spec.mode === 'canary' ? [hosts.experiment, hosts.stable, hosts.canary] : [hosts.experiment, hosts.stable];
}

function sortedLabels(labels: Labels): Labels {
  return Object.fromEntries(Object.entries(labels).sort(([a], [b]) => compareStrings(a, b)));
}

export function gateway(context: RenderContext): GatewayObject {
  const { tls } = context.spec.istio;
  const http: GatewayServer = { port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: exposedHosts(context) };
  const servers: GatewayServer[] =
    tls === undefined
      ? [http]
      : [
          { port: { number: 443, name: 'https', protocol: 'HTTPS' }, hosts: exposedHosts(context), tls: { mode: 'SIMPLE', credentialName: tls.credentialName } },
          tls.httpsRedirect ? { ...http, tls: { httpsRedirect: true } } : http,
        ];
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'Gateway',
    metadata: objectMetadata(context, context.names.gateway, standardLabels(context.experiment, 'gateway')),
    spec: { selector: sortedLabels(context.spec.istio.gatewaySelector), servers },
  };
}

/** The Gateway the app VirtualService binds to: the rendered one, or a shared one as `namespace/name`. */
export function gatewayReference(context: RenderContext): string {
  const shared = context.spec.istio.gateway;
  return shared === undefined ? context.names.gateway : `${shared.namespace ?? context.namespace}/${shared.name}`;
}

function hostRoute(context: RenderContext, name: string, host: string, version: string): HttpRoute {
  return {
    name,
    match: [{ authority: { regex: authorityRegex(host) } }],
    route: [{ destination: { host: context.names.appService, subset: version } }],
  };
}

interface Arm {
  version: string;
  weight: number;
}

/**
 * Experiment host in canary mode: sticky routes first, then the weighted split (see stickiness.ts).
 * A version whose weight is 0 gets neither a sticky route nor a destination, so rolling back to
 * 100/0 (or promoting to 0/100) moves every user at once, whatever their cookie says. With a single
 * version left there is nothing to keep users on, so no cookie is issued either: cookies handed out
 * then would pin everyone to that version for a TTL after the split resumes, starving the canary.
 */
function experimentRoutes(context: RenderContext): HttpRoute[] {
  const { spec, names } = context;
  const host = spec.istio.hosts.experiment;
  // A fresh match object per route: shared references would surface as YAML aliases and let a
  // caller's edit of one route leak into another.
  const authority = () => ({ regex: authorityRegex(host) });
  const destination = (version: string) => ({ host: names.appService, subset: version });
  if (spec.mode === 'shadow') {
    return [{ name: ROUTE_NAMES.experimentStable, match: [{ authority: authority() }], route: [{ destination: destination(spec.app.stable.version) }] }];
  }
  const { weights } = context.traffic;
  const arms: Arm[] = [
    { version: spec.app.stable.version, weight: weights.stable },
    { version: spec.app.canary.version, weight: weights.canary },
  ].filter((arm) => arm.weight > 0);
  const [only] = arms;
  if (arms.length === 1 && only !== undefined) {
    return [{ name: ROUTE_NAMES.experimentWeighted, match: [{ authority: authority() }], route: [{ destination: destination(only.version), weight: 100 }] }];
  }

  const { cookie, ttl } = spec.traffic.stickySession;
  const maxAge = durationToSeconds(ttl);
  const sticky: HttpRoute[] = arms.map(({ version }) => ({
    name: `experiment-sticky-${version}`,
    match: [{ authority: authority(), headers: { cookie: { regex: stickyCookieRegex(cookie, version) } } }],
    route: [{ destination: destination(version) }],
  }));
  const weighted: HttpRouteDestination[] = arms.map(({ version, weight }) => ({
    destination: destination(version),
    weight,
    // `add`, not `set`: the app may send Set-Cookie headers of its own.
    headers: { response: { add: { 'Set-Cookie': stickyCookieHeader(cookie, version, maxAge) } } },
  }));
  return [...sticky, { name: ROUTE_NAMES.experimentWeighted, match: [{ authority: authority() }], route: weighted }];
}

/**
 * Forced hosts come first and ignore the cookie: stable.* always serves the stable version even to
 * a user whose cookie says canary, which is what a tester typing that host expects.
 */
export function appVirtualService(context: RenderContext): VirtualServiceObject {
  const { spec, names, experiment } = context;
  const { hosts } = spec.istio;
  const http: HttpRoute[] = [hostRoute(context, 'stable-host', hosts.stable, spec.app.stable.version)];
  // Until the canary can answer, its host matches no route (Envoy answers 404) rather than 503s.
  if (spec.mode === 'canary' && context.traffic.canaryHost) http.push(hostRoute(context, ROUTE_NAMES.canaryHost, hosts.canary, spec.app.canary.version));
  http.push(...experimentRoutes(context));
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: objectMetadata(context, names.appVirtualService, standardLabels(experiment, 'app')),
    spec: { hosts: exposedHosts(context), gateways: [gatewayReference(context)], http },
  };
}

function destinationRule(context: RenderContext, name: string, component: 'app' | 'model', host: string, desired: string[]): DestinationRuleObject {
  // Subsets live routing still names stay until that routing is gone, or its share would 503.
  const retained = context.retainedSubsets[component].filter((version) => !desired.includes(version));
  const versions = [...desired, ...[...retained].sort(compareStrings)];
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'DestinationRule',
    metadata: objectMetadata(context, name, standardLabels(context.experiment, component)),
    spec: { host, subsets: versions.map((version) => ({ name: version, labels: { [VERSION_LABEL]: version } })) },
  };
}

/**
 * No consistentHash here: it cannot keep users on a version (see stickiness.ts), and a hash cookie
 * named like the version cookie would be overwritten by Envoy with a hash value. The app is
 * stateless, so pod affinity inside a subset buys nothing.
 */
export function appDestinationRule(context: RenderContext): DestinationRuleObject {
  const { spec, names } = context;
  const versions = spec.mode === 'canary' ? [spec.app.stable.version, spec.app.canary.version] : [spec.app.stable.version];
  return destinationRule(context, names.appDestinationRule, 'app', names.appService, versions);
}

export function modelDestinationRule(context: RenderContext): DestinationRuleObject {
  const { spec, names } = context;
  const other = spec.mode === 'canary' ? spec.model.canary.version : spec.model.shadow.version;
  return destinationRule(context, names.modelDestinationRule, 'model', names.modelService, [spec.model.stable.version, other]);
}

/**
 * Canary: calls from canary app pods go to the canary model (paired routing), all else to stable.
 * The match names this experiment's app pods and namespace, not just `version`, so another
 * workload labelled version=v2 is not paired by accident. sourceLabels only see sidecar-injected
 * callers: without injection every call falls through to the stable model.
 * Shadow: everything to stable, mirrorPercent of it copied to the shadow subset (responses dropped).
 */
export function modelVirtualService(context: RenderContext): VirtualServiceObject {
  const { spec, names, experiment, namespace } = context;
  const host = names.modelService;
  const stable = { host, subset: spec.model.stable.version };
  let http: HttpRoute[];
  if (spec.mode === 'canary' && context.traffic.pairedModel) {
    http = [
      {
        name: 'app-canary-to-model-canary',
        match: [
          {
            sourceLabels: { [ISTIO_APP_LABEL]: names.appWorkload, [VERSION_LABEL]: spec.app.canary.version },
            sourceNamespace: namespace,
          },
        ],
        route: [{ destination: { host, subset: spec.model.canary.version } }],
      },
      { name: 'model-stable', route: [{ destination: stable }] },
    ];
  } else if (spec.mode === 'shadow' && context.traffic.mirrorPercent > 0) {
    http = [
      {
        name: 'model-stable-with-shadow',
        route: [{ destination: stable }],
        mirror: { host, subset: spec.model.shadow.version },
        // Always explicit: a mirror without mirrorPercentage copies 100% of the traffic.
        mirrorPercentage: { value: context.traffic.mirrorPercent },
      },
    ];
  } else {
    http = [{ name: 'model-stable', route: [{ destination: stable }] }];
  }
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: objectMetadata(context, names.modelVirtualService, standardLabels(experiment, 'model')),
    spec: { hosts: [host], http },
  };
}

export function renderIstio(context: RenderContext): (GatewayObject | VirtualServiceObject | DestinationRuleObject)[] {
  // With a shared Gateway the operator renders none: the Gateway is its owner's.
  const own = context.spec.istio.gateway === undefined ? [gateway(context)] : [];
  return [...own, appDestinationRule(context), appVirtualService(context), modelDestinationRule(context), modelVirtualService(context)];
}
