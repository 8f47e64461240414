import assert from 'node:assert/strict';
import { smsExperimentSchema, type SmsExperimentStatus } from '../../../../src/crd/schema.ts';
import { claimantOf, conflictMessage, gatewayScope, hostConflict } from '../../../../src/operator/controller/host-claims.ts';

const experiment = (namespace: string, name: string, created: string, spec: Record<string, unknown> = {}, status?: SmsExperimentStatus) =>
  claimantOf(
    smsExperimentSchema.parse({
      apiVersion: 'experiments.sms-app.io/v1alpha1',
      kind: 'SmsExperiment',
      metadata: { namespace, name, uid: `${namespace}-${name}`, creationTimestamp: created },
      spec,
      ...(status ? { status } : {}),
    }),
  );
const hosts = (experiment: string) => ({ istio: { hosts: { experiment, stable: `stable.${experiment}`, canary: `canary.${experiment}` } } });
const holding = (host: string): SmsExperimentStatus => ({ claimedHosts: [host, `stable.${host}`, `canary.${host}`] });

describe('host claims', () => {
  it('lets the older of two newcomers have a host, whichever looks first', () => {
    const older = experiment('a', 'one', '2026-01-01T00:00:00Z', hosts('shop.example.com'));
    const newer = experiment('b', 'two', '2026-01-02T00:00:00Z', hosts('shop.example.com'));
    assert.equal(hostConflict(older, [newer]), undefined);
    assert.deepEqual(hostConflict(newer, [older])?.other, { namespace: 'a', name: 'one' });
  });

  it('keeps a host with the experiment that routes it, even against an older one that asks later', () => {
    const holder = experiment('b', 'two', '2026-01-02T00:00:00Z', hosts('shop.example.com'), holding('shop.example.com'));
    const older = experiment('a', 'one', '2026-01-01T00:00:00Z', hosts('shop.example.com'));
    assert.equal(hostConflict(holder, [older]), undefined);
    assert.equal(hostConflict(older, [holder])?.host, 'shop.example.com');
  });

  it('sees no conflict on another gateway, nor with itself', () => {
    const one = experiment('a', 'one', '2026-01-01T00:00:00Z', hosts('shop.example.com'));
    const otherGateway = experiment('b', 'two', '2026-01-02T00:00:00Z', { ...hosts('shop.example.com'), istio: { ...hosts('shop.example.com').istio, gatewaySelector: { istio: 'internal' } } });
    assert.equal(hostConflict(otherGateway, [one]), undefined);
    assert.equal(hostConflict(one, [one]), undefined);
    const partly = experiment('c', 'three', '2026-01-03T00:00:00Z', { istio: { hosts: { experiment: 'x.example.com', stable: 'stable.shop.example.com', canary: 'canary.x.example.com' } } });
    assert.equal(hostConflict(partly, [one])?.host, 'stable.shop.example.com', 'one host in common is enough');
  });

  it('names the gateway, the host and the other experiment', () => {
    const spec = smsExperimentSchema.shape.spec.parse({ istio: { gateway: { name: 'public' } } });
    assert.equal(gatewayScope(spec, 'team'), 'gateway team/public');
    const message = conflictMessage({ host: 'shop.example.com', gateway: 'ingress gateway istio=ingressgateway', other: { namespace: 'a', name: 'one' } });
    assert.match(message, /^host shop.example.com on the ingress gateway istio=ingressgateway is already routed by SmsExperiment a\/one/);
  });
});
