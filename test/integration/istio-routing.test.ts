// Routing proven by Istio's own translation: each case renders an experiment, hands the objects to
// istiod's xDS generation (test/support/istio-routes.ts) for the ingress gateway and for sidecars
// with the experiment's pod labels, and asserts where the generated Envoy routes send each request.
// Every case prints its outcome table. Broken renders at the end must be refused by the same rows.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import type { SmsExperimentSpecInput } from '../../src/crd/schema.ts';
import { render, type RenderOptions, type RenderedObject, type VirtualServiceObject } from '../../src/operator/render/index.ts';
import { loadToolchain } from '../../hack/cluster/toolchain.ts';
import { routeThroughIstio, parseCluster, type EnvoyOutcome, type IstioAnswer, type IstioRequest, type Via } from '../support/istio-routes.ts';
import { NAMESPACE, byName, experiment } from '../unit/render/fixtures.ts';

const APP = 'sms-app-app:80';
const MODEL = 'sms-app-model:8081';
const MODEL_HOST = `sms-app-model.${NAMESPACE}.svc:8081`; // what the app's MODEL_HOST sends
const GATEWAY: Via = { kind: 'gateway' };

/** Labels of the pods a rendered Deployment would run. */
function podLabels(objects: RenderedObject[], deployment: string): Record<string, string> {
  const labels = byName(objects, 'Deployment', deployment).spec.template.metadata?.labels;
  if (labels === undefined) throw new Error(`${deployment} has no pod labels`);
  return labels;
}

const sidecar = (labels: Record<string, string>, namespace = NAMESPACE): Via => ({ kind: 'sidecar', labels, namespace });

/** One request and what Envoy must do with it, in the table's words. */
interface Row {
  request: string;
  via: Via | ((objects: RenderedObject[]) => Via);
  host: string;
  cookie?: string;
  expected: Seen;
}

/** What a request gets, as printed: route, destinations with weights, Set-Cookie per destination, mirror. */
interface Seen {
  route: string;
  to: string;
  setCookie: string;
  mirror: string;
}

const NO_VIRTUAL_HOST: Seen = { route: '404 (no virtual host)', to: '-', setCookie: '-', mirror: '-' };
const NO_ROUTE: Seen = { route: '404 (no route)', to: '-', setCookie: '-', mirror: '-' };

function cookieOf(name: string, version: string, maxAge = 3600): string {
  return `${name}=${version}; Max-Age=${maxAge}; Path=/`;
}

const cookies = (name: string, versions: string[], maxAge?: number) => versions.map((version) => `${version}: ${cookieOf(name, version, maxAge)}`).join(' | ');
const to = (route: string, destination: string, setCookie = '-', mirror = '-'): Seen => ({ route, to: destination, setCookie, mirror });

function describe_(outcome: EnvoyOutcome): Seen {
  if (outcome.virtualHost === undefined) return NO_VIRTUAL_HOST;
  if (!outcome.matched) return NO_ROUTE;
  if (outcome.directResponseStatus !== undefined) return to(`${outcome.route ?? ''} (direct ${outcome.directResponseStatus})`, '-');
  const byService = new Map<string, string[]>();
  const setCookies: string[] = [];
  for (const { cluster, weight, responseHeadersToAdd } of outcome.clusters) {
    const { port, subset, host } = parseCluster(cluster);
    const service = `${host.replace(`.${NAMESPACE}.svc.cluster.local`, '')}:${port}`;
    byService.set(service, [...(byService.get(service) ?? []), `${subset}=${weight}`]);
    for (const { header, value, append } of responseHeadersToAdd) {
      setCookies.push(`${subset}: ${header === 'Set-Cookie' && append === 'APPEND_IF_EXISTS_OR_ADD' ? value : `${header} ${append} ${value}`}`);
    }
  }
  for (const { header, value } of outcome.routeResponseHeadersToAdd) setCookies.push(`route: ${header}: ${value}`);
  const mirrors = outcome.mirrors.map(({ cluster, percent, hostSuffixAppended }) => {
    const { subset } = parseCluster(cluster);
    return `${subset} ${percent}% (Host ${hostSuffixAppended ? 'gets -shadow' : 'kept'})`;
  });
  return {
    route: outcome.route ?? '(unnamed)',
    to: [...byService].map(([service, weights]) => `${service} ${weights.join(' ')}`).join(' + '),
    setCookie: setCookies.length === 0 ? '-' : setCookies.join(' | '),
    mirror: mirrors.length === 0 ? '-' : mirrors.join(', '),
  };
}

interface Checked {
  answer: IstioAnswer;
  lines: { row: Row; seen: Seen }[];
  mismatches: string[];
}

async function check(objects: RenderedObject[], rows: Row[], istiodEnvironment?: Record<string, string>): Promise<Checked> {
  const requests: IstioRequest[] = rows.map((row, index) => {
    const via = typeof row.via === 'function' ? row.via(objects) : row.via;
    return {
      id: String(index),
      via,
      port: via.kind === 'gateway' ? 80 : 8081,
      host: row.host,
      ...(row.cookie === undefined ? {} : { headers: { cookie: row.cookie } }),
    };
  });
  const answer = await routeThroughIstio(objects, requests, istiodEnvironment);
  const lines = rows.map((row, index) => ({ row, seen: describe_(answer.outcomes[index] as EnvoyOutcome) }));
  const mismatches = lines.flatMap(({ row, seen }) => {
    const wrong = (Object.keys(row.expected) as (keyof Seen)[]).filter((key) => row.expected[key] !== seen[key]);
    return wrong.length === 0 ? [] : [`${row.request}: ${wrong.map((key) => `${key} is "${seen[key]}", expected "${row.expected[key]}"`).join('; ')}`];
  });
  return { answer, lines, mismatches };
}

function table(title: string, { answer, lines }: Checked): string {
  const header = ['request', 'route', 'to (subset=weight)', 'Set-Cookie added', 'mirror', ''];
  const body = lines.map(({ row, seen }) => [row.request, seen.route, seen.to, seen.setCookie, seen.mirror, JSON.stringify(seen) === JSON.stringify({ ...seen, ...row.expected }) ? 'ok' : 'WRONG']);
  const widths = header.map((_, column) => Math.max(...[header, ...body].map((cells) => (cells[column] ?? '').length)));
  const format = (cells: string[]) => `    ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd()}`;
  const { releaseLine, moduleVersion, disableShadowHostSuffix } = answer.istio;
  return [
    `  ${title} — Istio ${releaseLine} (istio.io/istio ${moduleVersion}, DISABLE_SHADOW_HOST_SUFFIX=${disableShadowHostSuffix})`,
    format(header),
    ...body.map(format),
  ].join('\n');
}

async function sample(name: string): Promise<SmsExperimentSpecInput> {
  const document = parse(await readFile(new URL(`../../config/samples/experiments_v1alpha1_smsexperiment_${name}.yaml`, import.meta.url), 'utf8')) as { spec: SmsExperimentSpecInput };
  return document.spec;
}

const appV1 = (objects: RenderedObject[]) => sidecar(podLabels(objects, 'sms-app-app'));
const appV2 = (objects: RenderedObject[]) => sidecar(podLabels(objects, 'sms-app-app-canary'));
const COOKIE = 'sms-app-version';
const WEIGHTED_90_10 = to('experiment-weighted', `${APP} v1=90 v2=10`, cookies(COOKIE, ['v1', 'v2']));
const STICKY_V1 = to('experiment-sticky-v1', `${APP} v1=100`);
const STICKY_V2 = to('experiment-sticky-v2', `${APP} v2=100`);
const STABLE_HOST = to('stable-host', `${APP} v1=100`);
const CANARY_HOST = to('canary-host', `${APP} v2=100`);
const MODEL_STABLE = to('model-stable', `${MODEL} v1=100`);
const MODEL_PAIRED = to('app-canary-to-model-canary', `${MODEL} v2=100`);

/** The canary rows every 90/10 rendering must pass: through the gateway, then sidecars to the model. */
const CANARY_ROWS: Row[] = [
  { request: 'sms-app.local, no cookie', via: GATEWAY, host: 'sms-app.local', expected: WEIGHTED_90_10 },
  { request: 'sms-app.local:31080 (NodePort), no cookie', via: GATEWAY, host: 'sms-app.local:31080', expected: WEIGHTED_90_10 },
  { request: 'SMS-App.local (Host in another case)', via: GATEWAY, host: 'SMS-App.local', expected: WEIGHTED_90_10 },
  { request: 'sms-app.local, cookie v1 (stable)', via: GATEWAY, host: 'sms-app.local', cookie: `${COOKIE}=v1`, expected: STICKY_V1 },
  { request: 'sms-app.local, cookie v2 (canary)', via: GATEWAY, host: 'sms-app.local', cookie: `${COOKIE}=v2`, expected: STICKY_V2 },
  { request: 'sms-app.local:8080, cookie v2', via: GATEWAY, host: 'sms-app.local:8080', cookie: `${COOKIE}=v2`, expected: STICKY_V2 },
  { request: 'cookie v2 among other cookies', via: GATEWAY, host: 'sms-app.local', cookie: `theme=dark; ${COOKIE}=v2; lang=en`, expected: STICKY_V2 },
  { request: 'cookie v1 last, no space after ;', via: GATEWAY, host: 'sms-app.local', cookie: `a=b;${COOKIE}=v1`, expected: STICKY_V1 },
  { request: 'a longer cookie name (x...=v2)', via: GATEWAY, host: 'sms-app.local', cookie: `x${COOKIE}=v2`, expected: WEIGHTED_90_10 },
  { request: 'a longer value (=v20)', via: GATEWAY, host: 'sms-app.local', cookie: `${COOKIE}=v20`, expected: WEIGHTED_90_10 },
  { request: 'name=value inside another cookie', via: GATEWAY, host: 'sms-app.local', cookie: `other=${COOKIE}=v2`, expected: WEIGHTED_90_10 },
  { request: 'a version not in the experiment (v3)', via: GATEWAY, host: 'sms-app.local', cookie: `${COOKIE}=v3`, expected: WEIGHTED_90_10 },
  { request: 'stable.sms-app.local, cookie v2 (forced)', via: GATEWAY, host: 'stable.sms-app.local', cookie: `${COOKIE}=v2`, expected: STABLE_HOST },
  { request: 'Stable.SMS-App.local, cookie v2 (forced)', via: GATEWAY, host: 'Stable.SMS-App.local', cookie: `${COOKIE}=v2`, expected: STABLE_HOST },
  { request: 'two cookies of that name: the first route (v1) wins', via: GATEWAY, host: 'sms-app.local', cookie: `${COOKIE}=v2; ${COOKIE}=v1`, expected: STICKY_V1 },
  { request: 'stable.sms-app.local:8080, no cookie', via: GATEWAY, host: 'stable.sms-app.local:8080', expected: STABLE_HOST },
  { request: 'canary.sms-app.local, cookie v1 (forced)', via: GATEWAY, host: 'canary.sms-app.local', cookie: `${COOKIE}=v1`, expected: CANARY_HOST },
  { request: 'canary.sms-app.local, no cookie', via: GATEWAY, host: 'canary.sms-app.local', expected: CANARY_HOST },
  { request: 'sms-nginx.local (NGINX Ingress)', via: GATEWAY, host: 'sms-nginx.local', expected: NO_VIRTUAL_HOST },
  { request: 'unknown.local', via: GATEWAY, host: 'unknown.local', expected: NO_VIRTUAL_HOST },
  { request: 'sidecar app v1 pod -> model', via: appV1, host: MODEL_HOST, expected: MODEL_STABLE },
  { request: 'sidecar app v2 pod -> model', via: appV2, host: MODEL_HOST, expected: MODEL_PAIRED },
  { request: 'sidecar app v2 pod -> model (short host)', via: appV2, host: 'sms-app-model:8081', expected: MODEL_PAIRED },
  { request: 'sidecar other workload version=v2 -> model', via: sidecar({ app: 'other', version: 'v2' }), host: MODEL_HOST, expected: MODEL_STABLE },
  { request: 'sidecar app v2 labels, other namespace', via: (objects) => sidecar(podLabels(objects, 'sms-app-app-canary'), 'elsewhere'), host: MODEL_HOST, expected: MODEL_STABLE },
];

const first = (cookie?: string): Pick<Row, 'via' | 'host' | 'cookie'> => ({ via: GATEWAY, host: 'sms-app.local', ...(cookie === undefined ? {} : { cookie }) });

interface Case {
  title: string;
  /** istiod's environment for this case (a mesh setting), when not the default. */
  istiod?: Record<string, string>;
  spec: SmsExperimentSpecInput | (() => Promise<SmsExperimentSpecInput>);
  options?: RenderOptions;
  rows: Row[];
}

const CASES: Case[] = [
  { title: 'canary sample (90/10)', spec: () => sample('canary'), rows: CANARY_ROWS },
  { title: 'full sample (every field spelled out)', spec: () => sample('full'), rows: CANARY_ROWS },
  {
    title: 'weights 50/50',
    spec: { traffic: { weights: { stable: 50, canary: 50 } } },
    rows: [
      { request: 'no cookie', ...first(), expected: to('experiment-weighted', `${APP} v1=50 v2=50`, cookies(COOKIE, ['v1', 'v2'])) },
      { request: 'cookie v1', ...first(`${COOKIE}=v1`), expected: STICKY_V1 },
      { request: 'cookie v2', ...first(`${COOKIE}=v2`), expected: STICKY_V2 },
    ],
  },
  {
    title: 'weights 100/0 (rolled back)',
    spec: { traffic: { weights: { stable: 100, canary: 0 } } },
    rows: [
      { request: 'no cookie: no cookie issued', ...first(), expected: to('experiment-weighted', `${APP} v1=100`) },
      { request: 'cookie v2 (weight 0): back to stable', ...first(`${COOKIE}=v2`), expected: to('experiment-weighted', `${APP} v1=100`) },
      { request: 'cookie v1', ...first(`${COOKIE}=v1`), expected: to('experiment-weighted', `${APP} v1=100`) },
      { request: 'canary.sms-app.local still reaches v2', via: GATEWAY, host: 'canary.sms-app.local', expected: CANARY_HOST },
      { request: 'sidecar app v2 pod -> model', via: appV2, host: MODEL_HOST, expected: MODEL_PAIRED },
    ],
  },
  {
    title: 'weights 0/100 (promoted)',
    spec: { traffic: { weights: { stable: 0, canary: 100 } } },
    rows: [
      { request: 'no cookie', ...first(), expected: to('experiment-weighted', `${APP} v2=100`) },
      { request: 'cookie v1 (weight 0): to the canary', ...first(`${COOKIE}=v1`), expected: to('experiment-weighted', `${APP} v2=100`) },
      { request: 'stable.sms-app.local still reaches v1', via: GATEWAY, host: 'stable.sms-app.local', expected: STABLE_HOST },
    ],
  },
  {
    title: 'canary scaled to 0 at 100/0 (spec rendering)',
    spec: { app: { canary: { replicas: 0 } }, model: { canary: { replicas: 0 } }, traffic: { weights: { stable: 100, canary: 0 } } },
    rows: [
      { request: 'cookie v2', ...first(`${COOKIE}=v2`), expected: to('experiment-weighted', `${APP} v1=100`) },
      { request: 'canary.sms-app.local: no route, 404', via: GATEWAY, host: 'canary.sms-app.local', expected: NO_ROUTE },
      { request: 'sidecar app v2 labels -> stable model', via: appV2, host: MODEL_HOST, expected: MODEL_STABLE },
    ],
  },
  {
    title: 'held plan: canary weight held at 0 while v2 is not Ready (spec 90/10)',
    spec: {},
    options: { traffic: { weights: { stable: 100, canary: 0 }, canaryHost: false, pairedModel: false, mirrorPercent: 0 }, retainedSubsets: { app: ['v2'], model: ['v2'] } },
    rows: [
      { request: 'no cookie', ...first(), expected: to('experiment-weighted', `${APP} v1=100`) },
      { request: 'cookie v2', ...first(`${COOKIE}=v2`), expected: to('experiment-weighted', `${APP} v1=100`) },
      { request: 'canary.sms-app.local: no route, 404', via: GATEWAY, host: 'canary.sms-app.local', expected: NO_ROUTE },
      { request: 'stable.sms-app.local', via: GATEWAY, host: 'stable.sms-app.local', expected: STABLE_HOST },
      { request: 'sidecar app v2 pod -> stable model', via: appV2, host: MODEL_HOST, expected: MODEL_STABLE },
    ],
  },
  {
    title: 'custom cookie name with regex metacharacters (exp.v*|x), TTL 90m',
    spec: { traffic: { stickySession: { cookie: 'exp.v*|x', ttl: '90m' } } },
    rows: [
      { request: 'no cookie', ...first(), expected: to('experiment-weighted', `${APP} v1=90 v2=10`, cookies('exp.v*|x', ['v1', 'v2'], 5400)) },
      { request: 'exp.v*|x=v2', ...first('exp.v*|x=v2'), expected: STICKY_V2 },
      { request: 'a=1; exp.v*|x=v1', ...first('a=1; exp.v*|x=v1'), expected: STICKY_V1 },
      { request: 'expXvv|x=v2 (. and * are literal)', ...first('expXvv|x=v2'), expected: to('experiment-weighted', `${APP} v1=90 v2=10`, cookies('exp.v*|x', ['v1', 'v2'], 5400)) },
      { request: 'x=v2 (| is literal)', ...first('x=v2'), expected: to('experiment-weighted', `${APP} v1=90 v2=10`, cookies('exp.v*|x', ['v1', 'v2'], 5400)) },
      { request: 'the default cookie name', ...first(`${COOKIE}=v2`), expected: to('experiment-weighted', `${APP} v1=90 v2=10`, cookies('exp.v*|x', ['v1', 'v2'], 5400)) },
    ],
  },
  {
    title: 'custom hosts',
    spec: { istio: { hosts: { experiment: 'try.example.com', stable: 'prod.example.com', canary: 'next.example.com' } } },
    rows: [
      { request: 'try.example.com', via: GATEWAY, host: 'try.example.com', expected: WEIGHTED_90_10 },
      { request: 'try.example.com:8443, cookie v2', via: GATEWAY, host: 'try.example.com:8443', cookie: `${COOKIE}=v2`, expected: STICKY_V2 },
      { request: 'prod.example.com, cookie v2', via: GATEWAY, host: 'prod.example.com', cookie: `${COOKIE}=v2`, expected: STABLE_HOST },
      { request: 'next.example.com, cookie v1', via: GATEWAY, host: 'next.example.com', cookie: `${COOKIE}=v1`, expected: CANARY_HOST },
      { request: 'sms-app.local (not served)', via: GATEWAY, host: 'sms-app.local', expected: NO_VIRTUAL_HOST },
    ],
  },
  ...shadowCases(),
];

function shadowCases(): Case[] {
  const stableOnly = to('experiment-stable', `${APP} v1=100`);
  const shadowRows = (mirror: Seen): Row[] => [
    { request: 'sms-app.local, no cookie', ...first(), expected: stableOnly },
    { request: 'sms-app.local, cookie v2', ...first(`${COOKIE}=v2`), expected: stableOnly },
    { request: 'stable.sms-app.local', via: GATEWAY, host: 'stable.sms-app.local', expected: STABLE_HOST },
    { request: 'canary.sms-app.local (not served)', via: GATEWAY, host: 'canary.sms-app.local', expected: NO_VIRTUAL_HOST },
    { request: 'sidecar app v1 pod -> model', via: appV1, host: MODEL_HOST, expected: mirror },
  ];
  const mirrored = (percent: number) => to('model-stable-with-shadow', `${MODEL} v1=100`, '-', `shadow ${percent}% (Host kept)`);
  return [
    { title: 'shadow sample (10% mirrored)', spec: () => sample('shadow'), rows: shadowRows(mirrored(10)) },
    { title: 'shadow, 0% mirrored', spec: { mode: 'shadow', traffic: { mirrorPercent: 0 } }, rows: shadowRows(MODEL_STABLE) },
    { title: 'shadow, 2.5% mirrored', spec: { mode: 'shadow', traffic: { mirrorPercent: 2.5 } }, rows: shadowRows(mirrored(2.5)) },
    { title: 'shadow, 100% mirrored', spec: { mode: 'shadow', traffic: { mirrorPercent: 100 } }, rows: shadowRows(mirrored(100)) },
    {
      // What Istio 1.26/1.27 did by default: the model still tells such copies by their Host.
      title: 'shadow sample, mesh with DISABLE_SHADOW_HOST_SUFFIX=false',
      spec: () => sample('shadow'),
      istiod: { DISABLE_SHADOW_HOST_SUFFIX: 'false' },
      rows: [{ request: 'sidecar app v1 pod -> model', via: appV1, host: MODEL_HOST, expected: to('model-stable-with-shadow', `${MODEL} v1=100`, '-', 'shadow 10% (Host gets -shadow)') }],
    },
  ];
}

async function renderCase(testCase: Case): Promise<RenderedObject[]> {
  const spec = typeof testCase.spec === 'function' ? await testCase.spec() : testCase.spec;
  return render(experiment(spec), testCase.options);
}

describe("Istio's translation of the rendered routing (istio-routes)", function () {
  this.timeout(120_000);

  for (const testCase of CASES) {
    it(testCase.title, async () => {
      const checked = await check(await renderCase(testCase), testCase.rows, testCase.istiod);
      console.log(table(testCase.title, checked));
      assert.deepEqual(checked.mismatches, []);
    });
  }

  it('is the Istio release line users install: the provisioning and the kind workflow pin the same line', async () => {
    const line = /^(\d+\.\d+) /.exec((await loadToolchain()).istioVersion)?.[1];
    assert.ok(line, 'toolchain.json names the Istio release line');
    const provisioning = parse(await readFile(new URL('../../ansible/group_vars/all/versions.yml', import.meta.url), 'utf8')) as { istio_version?: string };
    const workflow = parse(await readFile(new URL('../../.github/workflows/e2e.yaml', import.meta.url), 'utf8')) as { env?: { ISTIO_VERSION?: string } };
    assert.match(provisioning.istio_version ?? '', new RegExp(`^${line.replace('.', '\\.')}\\.\\d+$`), 'ansible istio_version');
    assert.match(workflow.env?.ISTIO_VERSION ?? '', new RegExp(`^${line.replace('.', '\\.')}\\.\\d+$`), 'the e2e workflow ISTIO_VERSION');
  });

  describe('a broken render is refused by the same rows', () => {
    const appVirtualService = (objects: RenderedObject[]): VirtualServiceObject => byName(objects, 'VirtualService', 'sms-app-vs');

    async function brokenMismatches(title: string, breakIt: (objects: RenderedObject[]) => void): Promise<string[]> {
      const objects = await renderCase(CASES[0] as Case);
      breakIt(objects);
      const checked = await check(objects, CANARY_ROWS);
      console.log(table(`BROKEN: ${title}`, checked));
      return checked.mismatches;
    }

    it('the weighted route placed before the cookie routes: cookies no longer stick', async () => {
      const mismatches = await brokenMismatches('weighted route first', (objects) => {
        const { http } = appVirtualService(objects).spec;
        const weighted = http.findIndex((route) => route.name === 'experiment-weighted');
        http.unshift(...http.splice(weighted, 1));
      });
      assert.ok(mismatches.some((line) => line.startsWith('sms-app.local, cookie v2 (canary): route is "experiment-weighted"')), mismatches.join('\n'));
      assert.ok(!mismatches.some((line) => line.startsWith('stable.sms-app.local')), 'the forced hosts come before it and still win');
    });

    it('the Set-Cookie on the wrong destination: the first visit is told the other version', async () => {
      const mismatches = await brokenMismatches('Set-Cookie swapped', (objects) => {
        const weighted = appVirtualService(objects).spec.http.find((route) => route.name === 'experiment-weighted');
        const [stable, canary] = weighted?.route ?? [];
        assert.ok(stable !== undefined && canary !== undefined);
        [stable.headers, canary.headers] = [canary.headers, stable.headers];
      });
      assert.ok(mismatches.some((line) => line.startsWith('sms-app.local, no cookie: setCookie is "v1: sms-app-version=v2')), mismatches.join('\n'));
    });

    it('an Ingress of Istio\'s class: Istio would serve the NGINX host too', async () => {
      const mismatches = await brokenMismatches('Ingress annotated kubernetes.io/ingress.class: istio', (objects) => {
        byName(objects, 'Ingress', 'sms-app-ingress').metadata.annotations = { 'kubernetes.io/ingress.class': 'istio' };
      });
      assert.ok(mismatches.some((line) => line.startsWith('sms-nginx.local (NGINX Ingress): route is "(unnamed)"')), mismatches.join('\n'));
    });

    it('the paired route without its source labels: every workload is paired', async () => {
      const mismatches = await brokenMismatches('paired route matching every caller', (objects) => {
        const route = byName(objects, 'VirtualService', 'sms-app-model-vs').spec.http[0];
        assert.equal(route?.name, 'app-canary-to-model-canary');
        delete route.match;
      });
      assert.ok(mismatches.some((line) => line.startsWith('sidecar app v1 pod -> model: route is "app-canary-to-model-canary"')), mismatches.join('\n'));
    });
  });
});
