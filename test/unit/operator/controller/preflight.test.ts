import assert from 'node:assert/strict';
import {
  describeMissingCrds,
  describeUnservedApis,
  findMissingCrds,
  findUnservedApis,
  usedResourceTypes,
} from '../../../../src/operator/controller/preflight.ts';
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

  describe('served group/versions', () => {
    /** Discovery of a cluster that serves everything the operator uses. */
    function fullyServed(): FakeKubeClient {
      const client = new FakeKubeClient();
      for (const type of usedResourceTypes({ leaderElection: true, monitoring: true })) {
        client.served.set(type.apiVersion, [...(client.served.get(type.apiVersion) ?? []), type.plural, `${type.plural}/status`]);
      }
      return client;
    }

    it('asks discovery once per group/version the operator uses, and passes when all are served', async () => {
      const client = fullyServed();
      assert.deepEqual(await findUnservedApis(client, usedResourceTypes({ leaderElection: true, monitoring: true })), []);
      const asked = client.callsOf('discover').map((call) => call.apiVersion).sort();
      assert.deepEqual(asked, [...new Set(asked)], 'each group/version once');
      for (const apiVersion of ['v1', 'apps/v1', 'networking.k8s.io/v1', 'networking.istio.io/v1', 'monitoring.coreos.com/v1', 'monitoring.coreos.com/v1alpha1', 'coordination.k8s.io/v1', 'events.k8s.io/v1', 'apiextensions.k8s.io/v1', 'experiments.sms-app.io/v1alpha1']) {
        assert.ok(asked.includes(apiVersion), `asks about ${apiVersion}`);
      }
    });

    it('names a group/version that is not served and what to install', async () => {
      const client = fullyServed();
      // An Istio older than 1.22 serves networking.istio.io/v1beta1 only.
      client.served.delete('networking.istio.io/v1');
      const unserved = await findUnservedApis(client, usedResourceTypes({ leaderElection: true, monitoring: true }));
      assert.equal(unserved.length, 1);
      const [istio] = unserved;
      assert.equal(istio?.apiVersion, 'networking.istio.io/v1');
      assert.equal(istio.groupVersionServed, false);
      assert.equal(istio.monitoring, false);
      assert.deepEqual([...istio.kinds].sort(), ['DestinationRule', 'Gateway', 'VirtualService']);
      assert.match(
        describeUnservedApis(unserved) ?? '',
        /^Cannot start: the API server does not serve networking\.istio\.io\/v1 \(needed for .*VirtualService.*\): install Istio 1\.22 or later, whose CRDs serve networking\.istio\.io\/v1$/,
      );
    });

    it('names a kind missing from a served group/version, and skips monitoring kinds with --skip-monitoring', async () => {
      const client = fullyServed();
      client.served.set('monitoring.coreos.com/v1alpha1', ['podmonitors']);
      const unserved = await findUnservedApis(client, usedResourceTypes({ leaderElection: true, monitoring: true }));
      assert.deepEqual(unserved, [{ apiVersion: 'monitoring.coreos.com/v1alpha1', kinds: ['AlertmanagerConfig'], groupVersionServed: true, monitoring: true }]);
      assert.equal(
        describeUnservedApis(unserved),
        'Cannot start: the API server serves monitoring.coreos.com/v1alpha1 but not AlertmanagerConfig: install prometheus-operator CRDs that serve monitoring.coreos.com/v1alpha1 (kube-prometheus-stack), or run with --skip-monitoring',
      );
      assert.deepEqual(await findUnservedApis(client, usedResourceTypes({ leaderElection: true, monitoring: false })), []);
      assert.equal(describeUnservedApis([]), undefined);
    });

    it('leaves the Lease out without leader election', () => {
      assert.ok(usedResourceTypes({ leaderElection: true, monitoring: true }).some((type) => type.kind === 'Lease'));
      assert.ok(!usedResourceTypes({ leaderElection: false, monitoring: true }).some((type) => type.kind === 'Lease'));
    });
  });
});
