import assert from 'node:assert/strict';
import type { SmsExperimentSpecInput } from '../../../src/crd/schema.ts';
import { render, type VirtualServiceObject } from '../../../src/operator/render/index.ts';
import { NAMESPACE, byName, experiment, ofKind } from './fixtures.ts';
import { routeRequest, type Outcome, type Request } from './route-matcher.ts';

function appVirtualService(spec: SmsExperimentSpecInput = {}): VirtualServiceObject {
  return byName(render(experiment(spec)), 'VirtualService', 'sms-app-vs');
}

function modelVirtualService(spec: SmsExperimentSpecInput = {}): VirtualServiceObject {
  return byName(render(experiment(spec)), 'VirtualService', 'sms-app-model-vs');
}

const COOKIE_V1 = 'sms-app-version=v1; Max-Age=3600; Path=/';
const COOKIE_V2 = 'sms-app-version=v2; Max-Age=3600; Path=/';
const WEIGHTED_90_10: Outcome = {
  route: 'experiment-weighted',
  weights: { v1: 90, v2: 10 },
  setCookie: { v1: COOKIE_V1, v2: COOKIE_V2 },
};

function to(subset: string, route: string): Outcome {
  return { route, weights: { [subset]: 100 }, setCookie: {} };
}

describe('render: app VirtualService routing (canary mode, defaults)', () => {
  const virtualService = appVirtualService();
  const table: { why: string; request: Request; expected: Outcome | undefined }[] = [
    { why: 'a first visit is split by weight and told which version it got', request: { host: 'sms-app.local' }, expected: WEIGHTED_90_10 },
    { why: 'the cookie v2 sticks to the canary', request: { host: 'sms-app.local', cookie: 'sms-app-version=v2' }, expected: to('v2', 'experiment-sticky-v2') },
    { why: 'the cookie v1 sticks to stable', request: { host: 'sms-app.local', cookie: 'sms-app-version=v1' }, expected: to('v1', 'experiment-sticky-v1') },
    { why: 'the cookie among others', request: { host: 'sms-app.local', cookie: 'a=b; sms-app-version=v1; c=d' }, expected: to('v1', 'experiment-sticky-v1') },
    { why: 'the cookie last, no space after ;', request: { host: 'sms-app.local', cookie: 'a=b;sms-app-version=v2' }, expected: to('v2', 'experiment-sticky-v2') },
    { why: 'the cookie first', request: { host: 'sms-app.local', cookie: 'sms-app-version=v2; a=b' }, expected: to('v2', 'experiment-sticky-v2') },
    { why: 'a longer cookie name is another cookie', request: { host: 'sms-app.local', cookie: 'xsms-app-version=v2' }, expected: WEIGHTED_90_10 },
    { why: 'a longer value is another version', request: { host: 'sms-app.local', cookie: 'sms-app-version=v20' }, expected: WEIGHTED_90_10 },
    { why: 'the name=value inside another cookie\'s value', request: { host: 'sms-app.local', cookie: 'other=sms-app-version=v2' }, expected: WEIGHTED_90_10 },
    { why: 'a version no longer in the experiment is reassigned', request: { host: 'sms-app.local', cookie: 'sms-app-version=v3' }, expected: WEIGHTED_90_10 },
    { why: 'unrelated cookies only', request: { host: 'sms-app.local', cookie: 'JSESSIONID=abc' }, expected: WEIGHTED_90_10 },
    { why: 'a Host header with a port (NodePort, port-forward)', request: { host: 'sms-app.local:31080' }, expected: WEIGHTED_90_10 },
    { why: 'a sticky request with a port', request: { host: 'sms-app.local:8080', cookie: 'sms-app-version=v2' }, expected: to('v2', 'experiment-sticky-v2') },
    { why: 'two cookies of that name: the first rule (stable) wins', request: { host: 'sms-app.local', cookie: 'sms-app-version=v1; sms-app-version=v2' }, expected: to('v1', 'experiment-sticky-v1') },
    { why: 'the stable host ignores a canary cookie (forced host wins)', request: { host: 'stable.sms-app.local', cookie: 'sms-app-version=v2' }, expected: to('v1', 'stable-host') },
    { why: 'the stable host', request: { host: 'stable.sms-app.local' }, expected: to('v1', 'stable-host') },
    { why: 'the canary host', request: { host: 'canary.sms-app.local' }, expected: to('v2', 'canary-host') },
    { why: 'the canary host ignores a stable cookie', request: { host: 'canary.sms-app.local', cookie: 'sms-app-version=v1' }, expected: to('v2', 'canary-host') },
    { why: 'an unknown host', request: { host: 'unknown.local' }, expected: undefined },
    { why: 'a host that only starts like ours', request: { host: 'sms-app.local.example.com' }, expected: undefined },
  ];
  for (const { why, request, expected } of table) {
    it(`${request.host}${request.cookie === undefined ? '' : ` + "${request.cookie}"`} -> ${expected?.route ?? 'no route'}: ${why}`, () => {
      assert.deepEqual(routeRequest(virtualService, request), expected);
    });
  }

  it('binds the VirtualService to the Gateway, with the same three hosts', () => {
    const objects = render(experiment());
    const gateway = byName(objects, 'Gateway', 'sms-app-gateway');
    assert.deepEqual(virtualService.spec.gateways, ['sms-app-gateway']);
    assert.deepEqual(virtualService.spec.hosts, ['sms-app.local', 'stable.sms-app.local', 'canary.sms-app.local']);
    assert.deepEqual(gateway.spec.servers[0]?.hosts, virtualService.spec.hosts);
    assert.deepEqual(gateway.spec.selector, { istio: 'ingressgateway' });
  });

  it('routes every destination to the app Service subsets that the app DestinationRule defines', () => {
    const objects = render(experiment());
    const subsets = byName(objects, 'DestinationRule', 'sms-app-app-dr').spec.subsets;
    assert.deepEqual(subsets, [
      { name: 'v1', labels: { version: 'v1' } },
      { name: 'v2', labels: { version: 'v2' } },
    ]);
    for (const route of virtualService.spec.http) {
      for (const { destination } of route.route) {
        assert.equal(destination.host, 'sms-app-app');
        assert.ok(subsets.some((subset) => subset.name === destination.subset));
      }
    }
  });

  it('uses only regex syntax that RE2 and JavaScript share (no lookaround, backreferences, named groups)', () => {
    for (const route of virtualService.spec.http) {
      for (const block of route.match ?? []) {
        for (const regex of [block.authority?.regex, block.headers?.cookie?.regex]) {
          if (regex === undefined) continue;
          assert.doesNotMatch(regex, /\(\?[=!<]|\\[1-9]|\\[pPk]/, regex);
          assert.match(regex, /^\^.*\$$/, 'anchored, so a full match and a search agree');
        }
      }
    }
  });
});

describe('render: weight edits', () => {
  it('90/10 -> 50/50 -> 0/100 is reflected in the weighted route', () => {
    const weightsOf = (stable: number, canary: number) =>
      routeRequest(appVirtualService({ traffic: { weights: { stable, canary } } }), { host: 'sms-app.local' })?.weights;
    assert.deepEqual(weightsOf(90, 10), { v1: 90, v2: 10 });
    assert.deepEqual(weightsOf(50, 50), { v1: 50, v2: 50 });
    assert.deepEqual(weightsOf(0, 100), { v2: 100 });
    assert.deepEqual(weightsOf(100, 0), { v1: 100 });
  });

  it('rolling back to 100/0 moves users with a canary cookie back to stable, without issuing cookies', () => {
    const virtualService = appVirtualService({ traffic: { weights: { stable: 100, canary: 0 } } });
    for (const cookie of [undefined, 'sms-app-version=v2', 'sms-app-version=v1']) {
      assert.deepEqual(routeRequest(virtualService, { host: 'sms-app.local', ...(cookie === undefined ? {} : { cookie }) }), {
        route: 'experiment-weighted',
        weights: { v1: 100 },
        setCookie: {},
      });
    }
    assert.deepEqual(
      virtualService.spec.http.map((route) => route.name),
      ['stable-host', 'canary-host', 'experiment-weighted'],
    );
    // The canary stays reachable for testers on its own host.
    assert.deepEqual(routeRequest(virtualService, { host: 'canary.sms-app.local' }), to('v2', 'canary-host'));
  });

  it('promoting to 0/100 moves users with a stable cookie to the canary', () => {
    const virtualService = appVirtualService({ traffic: { weights: { stable: 0, canary: 100 } } });
    assert.deepEqual(routeRequest(virtualService, { host: 'sms-app.local', cookie: 'sms-app-version=v1' }), {
      route: 'experiment-weighted',
      weights: { v2: 100 },
      setCookie: {},
    });
  });

  it('writes the sticky TTL as Max-Age seconds and honours a custom cookie name and versions', () => {
    const virtualService = appVirtualService({
      app: { stable: { version: 'blue' }, canary: { version: 'green' } },
      traffic: { stickySession: { cookie: 'exp.variant', ttl: '1h30m' } },
    });
    assert.deepEqual(routeRequest(virtualService, { host: 'sms-app.local' })?.setCookie, {
      blue: 'exp.variant=blue; Max-Age=5400; Path=/',
      green: 'exp.variant=green; Max-Age=5400; Path=/',
    });
    assert.equal(routeRequest(virtualService, { host: 'sms-app.local', cookie: 'exp.variant=green' })?.route, 'experiment-sticky-green');
    // The dot is escaped: `expXvariant` is another cookie.
    assert.equal(routeRequest(virtualService, { host: 'sms-app.local', cookie: 'expXvariant=green' })?.route, 'experiment-weighted');
  });

  it('follows custom hosts', () => {
    const virtualService = appVirtualService({ istio: { hosts: { experiment: 'try.example.com', stable: 'prod.example.com', canary: 'next.example.com' } } });
    assert.equal(routeRequest(virtualService, { host: 'try.example.com' })?.route, 'experiment-weighted');
    assert.equal(routeRequest(virtualService, { host: 'prod.example.com', cookie: 'sms-app-version=v2' })?.route, 'stable-host');
    assert.equal(routeRequest(virtualService, { host: 'next.example.com' })?.route, 'canary-host');
    assert.equal(routeRequest(virtualService, { host: 'sms-app.local' }), undefined);
  });
});

describe('render: app VirtualService routing (shadow mode)', () => {
  const virtualService = appVirtualService({ mode: 'shadow' });

  it('sends the experiment and stable hosts to stable, cookie or not, without setting cookies', () => {
    for (const request of [
      { host: 'sms-app.local' },
      { host: 'sms-app.local', cookie: 'sms-app-version=v2' },
      { host: 'stable.sms-app.local' },
    ]) {
      const outcome = routeRequest(virtualService, request);
      assert.deepEqual(outcome?.weights, { v1: 100 }, JSON.stringify(request));
      assert.deepEqual(outcome.setCookie, {});
    }
  });

  it('leaves the canary host out of the VirtualService and the Gateway', () => {
    const gateway = byName(render(experiment({ mode: 'shadow' })), 'Gateway', 'sms-app-gateway');
    assert.equal(routeRequest(virtualService, { host: 'canary.sms-app.local' }), undefined);
    assert.deepEqual(virtualService.spec.hosts, ['sms-app.local', 'stable.sms-app.local']);
    assert.deepEqual(gateway.spec.servers[0]?.hosts, virtualService.spec.hosts);
  });
});

describe('render: model VirtualService', () => {
  const fromApp = (version: string, namespace = NAMESPACE): Request => ({
    host: 'sms-app-model',
    sourceLabels: { app: 'sms-app-app', version },
    sourceNamespace: namespace,
  });

  it('pairs the canary app with the canary model and everything else with stable (canary mode)', () => {
    const virtualService = modelVirtualService();
    assert.deepEqual(virtualService.spec.hosts, ['sms-app-model']);
    assert.equal(virtualService.spec.gateways, undefined, 'mesh-internal');
    assert.deepEqual(routeRequest(virtualService, fromApp('v2'))?.weights, { v2: 100 });
    assert.deepEqual(routeRequest(virtualService, fromApp('v1'))?.weights, { v1: 100 });
    assert.deepEqual(routeRequest(virtualService, { host: 'sms-app-model' })?.weights, { v1: 100 }, 'caller without sidecar labels');
    assert.deepEqual(
      routeRequest(virtualService, { host: 'sms-app-model', sourceLabels: { app: 'other', version: 'v2' }, sourceNamespace: NAMESPACE })?.weights,
      { v1: 100 },
      'another workload labelled v2 is not paired',
    );
    assert.deepEqual(routeRequest(virtualService, fromApp('v2', 'elsewhere'))?.weights, { v1: 100 }, 'same labels, other namespace');
  });

  it('pairs on the configured versions', () => {
    const virtualService = modelVirtualService({ app: { canary: { version: 'next' } }, model: { stable: { version: 'm1' }, canary: { version: 'm2' } } });
    assert.deepEqual(routeRequest(virtualService, fromApp('next'))?.weights, { m2: 100 });
    assert.deepEqual(routeRequest(virtualService, fromApp('v1'))?.weights, { m1: 100 });
  });

  it('serves stable and mirrors the configured percentage to the shadow subset (shadow mode)', () => {
    assert.deepEqual(routeRequest(modelVirtualService({ mode: 'shadow' }), fromApp('v1')), {
      route: 'model-stable-with-shadow',
      weights: { v1: 100 },
      setCookie: {},
      mirror: { subset: 'shadow', percent: 10 },
    });
    assert.deepEqual(routeRequest(modelVirtualService({ mode: 'shadow', traffic: { mirrorPercent: 37.5 } }), fromApp('v1'))?.mirror, {
      subset: 'shadow',
      percent: 37.5,
    });
  });

  it('drops the mirror at 0% (a mirror without a percentage would copy everything)', () => {
    const virtualService = modelVirtualService({ mode: 'shadow', traffic: { mirrorPercent: 0 } });
    assert.deepEqual(routeRequest(virtualService, fromApp('v1')), to('v1', 'model-stable'));
  });

  it('defines the model subsets the mode uses', () => {
    const subsets = (spec: SmsExperimentSpecInput) =>
      byName(render(experiment(spec)), 'DestinationRule', 'sms-app-model-dr').spec.subsets.map((subset) => subset.name);
    assert.deepEqual(subsets({}), ['v1', 'v2']);
    assert.deepEqual(subsets({ mode: 'shadow' }), ['v1', 'shadow']);
    for (const rule of ofKind(render(experiment()), 'DestinationRule')) {
      assert.equal(Object.hasOwn(rule.spec, 'trafficPolicy'), false, 'no consistentHash: it cannot hold a version under a split');
    }
  });
});
