import assert from 'node:assert/strict';
import { smsExperimentSpecSchema, type SmsExperimentSpecInput } from '../../../../src/crd/schema.ts';
import { gateTraffic, liveRoutingOf, type LiveRouting } from '../../../../src/operator/controller/traffic-gate.ts';
import type { DeploymentReadiness } from '../../../../src/operator/controller/readiness.ts';
import type { LiveObjectReader } from '../../../../src/operator/apply/applier.ts';
import type { LiveObject } from '../../../../src/operator/kube/objects.ts';
import { typeKey, type TypeRef } from '../../../../src/operator/kube/resources.ts';
import { render, specTraffic } from '../../../../src/operator/render/index.ts';
import { smsExperimentSchema } from '../../../../src/crd/schema.ts';

const spec = (input: SmsExperimentSpecInput = {}) => smsExperimentSpecSchema.parse(input);
const NO_ROUTING: LiveRouting = { appWeights: new Map(), namedSubsets: { app: [], model: [] } };

const serving = (name: string): DeploymentReadiness => ({
  name,
  found: true,
  desiredReplicas: 1,
  generation: 2,
  observedGeneration: 2,
  replicas: 1,
  updatedReplicas: 1,
  availableReplicas: 1,
});
const starting = (name: string): DeploymentReadiness => ({ ...serving(name), availableReplicas: 0 });
const rolling = (name: string): DeploymentReadiness => ({ ...serving(name), replicas: 2, updatedReplicas: 1, availableReplicas: 1 });
const unobserved = (name: string): DeploymentReadiness => ({ ...serving(name), generation: 3 });

describe('traffic gate', () => {
  it('routes what the spec asks once both canaries can answer', () => {
    const gated = gateTraffic(spec(), { appCanary: serving('app-canary'), modelCanary: serving('model-canary') }, NO_ROUTING);
    assert.deepEqual(gated.plan, specTraffic(spec()));
    assert.deepEqual(gated.held, []);
  });

  for (const [what, appCanary, modelCanary, cause] of [
    ['the app canary has no available pod', starting('app-canary'), serving('model-canary'), /Deployment app-canary has no available pod of its current spec yet/],
    ['the paired model canary has none', serving('app-canary'), starting('model-canary'), /Deployment model-canary has no available pod/],
    ['the app canary still runs old pods', rolling('app-canary'), serving('model-canary'), /still runs 1 pod of its previous spec/],
    ['the app canary has not seen the applied spec', unobserved('app-canary'), serving('model-canary'), /has not observed its latest spec yet/],
  ] as const) {
    it(`gives a new canary nothing while ${what}`, () => {
      const gated = gateTraffic(spec(), { appCanary, modelCanary }, NO_ROUTING);
      assert.deepEqual(gated.plan.weights, { stable: 100, canary: 0 });
      assert.equal(gated.plan.canaryHost, false);
      assert.match(gated.held[0] ?? '', /^canary weight held at 0% \(spec 10%\): /);
      assert.match(gated.held.join('; '), cause);
    });
  }

  it('keeps what live routing already gives the canary during its rollout, never more', () => {
    const live: LiveRouting = { ...NO_ROUTING, appWeights: new Map([['v1', 90], ['v2', 10]]), canaryHostSubset: 'v2', pairedModelSubset: 'v2' };
    const more = gateTraffic(spec({ traffic: { weights: { stable: 50, canary: 50 } } }), { appCanary: rolling('a'), modelCanary: serving('m') }, live);
    assert.deepEqual(more.plan, { ...specTraffic(spec()), weights: { stable: 90, canary: 10 } });
    assert.match(more.held[0] ?? '', /canary weight held at 10% \(spec 50%\)/);
    const same = gateTraffic(spec(), { appCanary: rolling('a'), modelCanary: serving('m') }, live);
    assert.deepEqual(same.held, [], 'an image edit of a serving canary holds nothing back');
  });

  it('never holds back taking traffic away', () => {
    const live: LiveRouting = { ...NO_ROUTING, appWeights: new Map([['v1', 50], ['v2', 50]]), canaryHostSubset: 'v2' };
    const gated = gateTraffic(spec({ traffic: { weights: { stable: 100, canary: 0 } } }), { appCanary: starting('a'), modelCanary: starting('m') }, live);
    assert.deepEqual(gated.plan.weights, { stable: 100, canary: 0 });
    assert.ok(!gated.held.some((message) => /weight/.test(message)));
  });

  it('does not count a renamed canary as the one live routing serves', () => {
    const live: LiveRouting = { ...NO_ROUTING, appWeights: new Map([['v1', 90], ['v2', 10]]), canaryHostSubset: 'v2' };
    const gated = gateTraffic(spec({ app: { canary: { version: 'v3' } } }), { appCanary: starting('a'), modelCanary: serving('m') }, live);
    assert.deepEqual(gated.plan.weights, { stable: 100, canary: 0 });
    assert.equal(gated.plan.canaryHost, false);
  });

  it('holds paired routing until the model canary answers', () => {
    const gated = gateTraffic(spec({ traffic: { weights: { stable: 100, canary: 0 } } }), { appCanary: serving('a'), modelCanary: starting('model-canary') }, NO_ROUTING);
    assert.equal(gated.plan.pairedModel, false);
    assert.match(gated.held.join('; '), /paired routing to model v2 held: Deployment model-canary has no available pod/);
  });

  it('mirrors to a shadow only once it answers, keeping a live mirror share meanwhile', () => {
    const shadow = spec({ mode: 'shadow', traffic: { mirrorPercent: 25 } });
    assert.equal(gateTraffic(shadow, { modelShadow: serving('s') }, NO_ROUTING).plan.mirrorPercent, 25);
    const fresh = gateTraffic(shadow, { modelShadow: starting('model-shadow') }, NO_ROUTING);
    assert.equal(fresh.plan.mirrorPercent, 0);
    assert.match(fresh.held[0] ?? '', /^mirroring held at 0% \(spec 25%\): Deployment model-shadow has no available pod/);
    const kept = gateTraffic(shadow, { modelShadow: rolling('s') }, { ...NO_ROUTING, mirror: { subset: 'shadow', percent: 10 } });
    assert.equal(kept.plan.mirrorPercent, 10);
  });

  it('reads the live routing back from the rendered VirtualServices', () => {
    const experiment = smsExperimentSchema.parse({
      apiVersion: 'experiments.sms-app.io/v1alpha1',
      kind: 'SmsExperiment',
      metadata: { name: 'demo', namespace: 'team', uid: 'u1' },
      spec: { traffic: { weights: { stable: 70, canary: 30 } } },
    });
    const objects = render(experiment) as unknown as LiveObject[];
    const cache: LiveObjectReader = {
      get: (type: TypeRef, namespace: string, name: string) => objects.find((o) => typeKey(o) === typeKey(type) && o.metadata.namespace === namespace && o.metadata.name === name),
      listOfExperiment: () => [],
    };
    const live = liveRoutingOf(cache, { apiVersion: 'experiments.sms-app.io/v1alpha1', kind: 'SmsExperiment', namespace: 'team', name: 'demo', uid: 'u1' });
    assert.deepEqual(Object.fromEntries(live.appWeights), { v1: 70, v2: 30 });
    assert.equal(live.canaryHostSubset, 'v2');
    assert.equal(live.pairedModelSubset, 'v2');
    assert.deepEqual(live.namedSubsets, { app: ['v1', 'v2'], model: ['v2', 'v1'] });
    const foreign = liveRoutingOf(cache, { apiVersion: 'experiments.sms-app.io/v1alpha1', kind: 'SmsExperiment', namespace: 'team', name: 'demo', uid: 'other' });
    assert.equal(foreign.appWeights.size, 0, 'routing of another owner is not ours to keep');
  });
});
