// Structure of the rendered routing that needs no interpreter: which hosts, gateways and subsets the
// objects name. Where requests go is proven by Istio's own translation of these objects in
// test/integration/istio-routing.test.ts (the gateway and sidecar routes Envoy would be sent).
import assert from 'node:assert/strict';
import type { SmsExperimentSpecInput } from '../../../src/crd/schema.ts';
import { render, type VirtualServiceObject } from '../../../src/operator/render/index.ts';
import { byName, experiment, ofKind } from './fixtures.ts';

function appVirtualService(spec: SmsExperimentSpecInput = {}): VirtualServiceObject {
  return byName(render(experiment(spec)), 'VirtualService', 'sms-app-vs');
}

describe('render: app VirtualService structure', () => {
  const virtualService = appVirtualService();
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

  it('uses only RE2 regex syntax (no lookaround, backreferences), anchored', () => {
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

describe('render: shadow mode hosts', () => {
  const virtualService = appVirtualService({ mode: 'shadow' });

  it('leaves the canary host out of the VirtualService and the Gateway', () => {
    const gateway = byName(render(experiment({ mode: 'shadow' })), 'Gateway', 'sms-app-gateway');
    assert.deepEqual(virtualService.spec.hosts, ['sms-app.local', 'stable.sms-app.local']);
    assert.deepEqual(gateway.spec.servers[0]?.hosts, virtualService.spec.hosts);
  });
});

describe('render: model VirtualService structure', () => {
  it('is mesh-internal, on the model Service', () => {
    const virtualService = byName(render(experiment()), 'VirtualService', 'sms-app-model-vs');
    assert.deepEqual(virtualService.spec.hosts, ['sms-app-model']);
    assert.equal(virtualService.spec.gateways, undefined);
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
