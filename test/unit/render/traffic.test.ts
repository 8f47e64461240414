import assert from 'node:assert/strict';
import { render, specTraffic, type TrafficPlan } from '../../../src/operator/render/index.ts';
import { byName, experiment } from './fixtures.ts';

const held: TrafficPlan = { weights: { stable: 100, canary: 0 }, canaryHost: false, pairedModel: false, mirrorPercent: 0 };
const subsetsOf = (route: { route?: Array<{ destination: { subset?: string } }>; mirror?: { subset?: string } }) => [
  ...(route.route ?? []).map((r) => r.destination.subset),
  ...(route.mirror ? [route.mirror.subset] : []),
];

describe('render: the traffic plan', () => {
  it('draws the spec traffic by default', () => {
    const object = experiment();
    assert.deepEqual(render(object), render(object, { traffic: specTraffic(object.spec) }));
  });

  it('routes nothing to the canary under a held plan: no weight, no host route, no paired route', () => {
    const objects = render(experiment(), { traffic: held });
    const app = byName(objects, 'VirtualService', 'sms-app-vs');
    assert.deepEqual(app.spec.http.map((route) => route.name), ['stable-host', 'experiment-weighted']);
    assert.deepEqual(app.spec.http.flatMap(subsetsOf), ['v1', 'v1']);
    const model = byName(objects, 'VirtualService', 'sms-app-model-vs');
    assert.deepEqual(model.spec.http.flatMap(subsetsOf), ['v1']);
    // The DestinationRules still define the canary subsets, ready for when it can answer.
    assert.deepEqual(byName(objects, 'DestinationRule', 'sms-app-app-dr').spec.subsets.map((s) => s.name), ['v1', 'v2']);
  });

  it('mirrors the plan share in shadow mode, and nothing at 0', () => {
    const shadow = experiment({ mode: 'shadow', traffic: { mirrorPercent: 25 } });
    const mirrored = byName(render(shadow, { traffic: { ...held, mirrorPercent: 5 } }), 'VirtualService', 'sms-app-model-vs');
    assert.equal(mirrored.spec.http[0]?.mirrorPercentage?.value, 5);
    const off = byName(render(shadow, { traffic: held }), 'VirtualService', 'sms-app-model-vs');
    assert.equal(off.spec.http[0]?.mirror, undefined);
  });

  it('keeps retained subsets in the DestinationRules after the spec ones', () => {
    const objects = render(experiment({ app: { canary: { version: 'v3' } } }), { retainedSubsets: { app: ['v2', 'v1'], model: [] } });
    assert.deepEqual(byName(objects, 'DestinationRule', 'sms-app-app-dr').spec.subsets.map((s) => `${s.name}:${s.labels.version}`), ['v1:v1', 'v3:v3', 'v2:v2']);
  });

  it('gives a canary scaled to zero no host route and no paired route', () => {
    const objects = render(experiment({ app: { canary: { replicas: 0 } }, model: { canary: { replicas: 0 } }, traffic: { weights: { stable: 100, canary: 0 } } }));
    assert.ok(!byName(objects, 'VirtualService', 'sms-app-vs').spec.http.some((route) => route.name === 'canary-host'));
    assert.deepEqual(byName(objects, 'VirtualService', 'sms-app-model-vs').spec.http.flatMap(subsetsOf), ['v1']);
  });

  it('sets the progress deadline and the user pod annotations on Deployments, the operator annotation last', () => {
    const objects = render(experiment({ progressDeadlineSeconds: 120, app: { canary: { podAnnotations: { 'example.com/team': 'ml' } } } }));
    const canary = byName(objects, 'Deployment', 'sms-app-app-canary');
    assert.equal(canary.spec.progressDeadlineSeconds, 120);
    const annotations = canary.spec.template.metadata?.annotations ?? {};
    assert.equal(annotations['example.com/team'], 'ml');
    assert.ok(annotations['experiments.sms-app.io/config-hash']);
  });
});
