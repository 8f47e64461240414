import assert from 'node:assert/strict';
import { describeMissingCrds, findMissingCrds } from '../../../../src/operator/controller/preflight.ts';
import { FakeKubeClient } from '../support/fake-kube.ts';

describe('preflight', () => {
  it('finds the missing CRDs, split into required and monitoring ones', async () => {
    const client = new FakeKubeClient();
    for (const name of ['smsexperiments.experiments.sms-app.io', 'virtualservices.networking.istio.io', 'servicemonitors.monitoring.coreos.com']) {
      client.objects.set(FakeKubeClient.key('customresourcedefinitions', '', name), { metadata: { name } });
    }
    const missing = await findMissingCrds(client);
    assert.ok(missing.required.includes('destinationrules.networking.istio.io'));
    assert.ok(!missing.required.includes('virtualservices.networking.istio.io'));
    assert.ok(!missing.required.includes('smsexperiments.experiments.sms-app.io'));
    assert.ok(missing.monitoring.includes('prometheusrules.monitoring.coreos.com'));
    assert.ok(!missing.monitoring.includes('servicemonitors.monitoring.coreos.com'));
    assert.ok(client.callsOf('get').every((call) => call.plural === 'customresourcedefinitions'));
  });

  it('explains what to install, and tolerates missing monitoring CRDs with --skip-monitoring', () => {
    const missing = { required: ['virtualservices.networking.istio.io'], monitoring: ['servicemonitors.monitoring.coreos.com'] };
    assert.equal(
      describeMissingCrds(missing, { skipMonitoring: false }),
      'Cannot start: required CRDs are not installed: virtualservices.networking.istio.io; prometheus-operator CRDs are not installed: servicemonitors.monitoring.coreos.com (install them, or run with --skip-monitoring)',
    );
    assert.equal(describeMissingCrds({ required: [], monitoring: missing.monitoring }, { skipMonitoring: true }), undefined);
    assert.equal(describeMissingCrds({ required: [], monitoring: [] }, { skipMonitoring: false }), undefined);
  });
});
