import assert from 'node:assert/strict';
import { crdNameOf, LEASE, NAMESPACE, resourcePath, resourceTypeOf, UnknownResourceTypeError } from '../../../../src/operator/kube/resources.ts';

describe('resources', () => {
  it('builds REST paths for core and grouped, namespaced and cluster-wide resources', () => {
    const service = resourceTypeOf({ apiVersion: 'v1', kind: 'Service' });
    assert.equal(resourcePath(service, { namespace: 'ns', name: 'a' }), '/api/v1/namespaces/ns/services/a');
    assert.equal(resourcePath(service), '/api/v1/services');
    assert.equal(resourcePath(LEASE, { namespace: 'ns', name: 'x', subresource: 'status' }), '/apis/coordination.k8s.io/v1/namespaces/ns/leases/x/status');
    assert.equal(resourcePath(NAMESPACE, { namespace: 'ignored', name: 'team-a' }), '/api/v1/namespaces/team-a');
    assert.equal(resourcePath(LEASE, { namespace: 'a b', name: 'x/y' }), '/apis/coordination.k8s.io/v1/namespaces/a%20b/leases/x%2Fy');
  });

  it('finds a kind under any version of its group, addressed at the version asked for', () => {
    const vs = resourceTypeOf({ apiVersion: 'networking.istio.io/v1beta1', kind: 'VirtualService' });
    assert.equal(vs.plural, 'virtualservices');
    assert.equal(vs.apiVersion, 'networking.istio.io/v1beta1');
    assert.throws(() => resourceTypeOf({ apiVersion: 'example.com/v1', kind: 'Widget' }), UnknownResourceTypeError);
  });

  it('names the CRD behind a custom kind, and none for built-in kinds', () => {
    assert.equal(crdNameOf(resourceTypeOf({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService' })), 'virtualservices.networking.istio.io');
    assert.equal(crdNameOf(resourceTypeOf({ apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor' })), 'servicemonitors.monitoring.coreos.com');
    assert.equal(crdNameOf(resourceTypeOf({ apiVersion: 'apps/v1', kind: 'Deployment' })), undefined);
    assert.equal(crdNameOf(resourceTypeOf({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress' })), undefined);
    assert.equal(crdNameOf(LEASE), undefined);
  });
});
