// A small interpreter of VirtualService http routes, enough to ask "where does this request go?"
// of the rendered objects: the first route whose match (any of its match blocks, all conditions of
// a block) fits the request wins, as in Envoy. Regexes are full matches, as with Envoy's RE2
// safe_regex; the renderer only emits syntax that RE2 and JavaScript read alike.
import type { HttpMatchRequest, HttpRoute, Labels, StringMatch, VirtualServiceObject } from '../../../src/operator/render/index.ts';

export interface Request {
  /** Host header, possibly with a port. */
  host: string;
  cookie?: string;
  sourceLabels?: Labels;
  sourceNamespace?: string;
}

export interface Outcome {
  route: string;
  /** subset -> weight (100 for a single destination without a weight) */
  weights: Record<string, number>;
  /** subset -> Set-Cookie header added to responses served by that destination */
  setCookie: Record<string, string>;
  mirror?: { subset: string | undefined; percent: number | undefined };
}

function matchesString(match: StringMatch, value: string | undefined): boolean {
  if (value === undefined) return false;
  if (match.exact !== undefined) return value === match.exact;
  if (match.prefix !== undefined) return value.startsWith(match.prefix);
  if (match.regex !== undefined) return new RegExp(`^(?:${match.regex})$`).test(value);
  return true;
}

function matchesBlock(block: HttpMatchRequest, request: Request): boolean {
  if (block.authority !== undefined && !matchesString(block.authority, request.host)) return false;
  for (const [header, match] of Object.entries(block.headers ?? {})) {
    if (header !== 'cookie') throw new Error(`matcher does not model header ${header}`);
    if (!matchesString(match, request.cookie)) return false;
  }
  for (const [key, value] of Object.entries(block.sourceLabels ?? {})) {
    if (request.sourceLabels?.[key] !== value) return false;
  }
  if (block.sourceNamespace !== undefined && block.sourceNamespace !== request.sourceNamespace) return false;
  return true;
}

function matches(route: HttpRoute, request: Request): boolean {
  return route.match === undefined || route.match.some((block) => matchesBlock(block, request));
}

/** The VirtualService's route for the request, or undefined when no host or route takes it. */
export function routeRequest(virtualService: VirtualServiceObject, request: Request): Outcome | undefined {
  const hostname = request.host.replace(/:\d+$/, '');
  if (!virtualService.spec.hosts.includes(hostname)) return undefined;
  const route = virtualService.spec.http.find((candidate) => matches(candidate, request));
  if (route === undefined) return undefined;
  const weights: Record<string, number> = {};
  const setCookie: Record<string, string> = {};
  for (const destination of route.route) {
    const subset = destination.destination.subset ?? '';
    weights[subset] = destination.weight ?? 100;
    const cookie = destination.headers?.response?.add?.['Set-Cookie'];
    if (cookie !== undefined) setCookie[subset] = cookie;
  }
  return {
    route: route.name,
    weights,
    setCookie,
    ...(route.mirror === undefined ? {} : { mirror: { subset: route.mirror.subset, percent: route.mirrorPercentage?.value } }),
  };
}
