import assert from 'node:assert/strict';
import { ApiException } from '@kubernetes/client-node';
import { withRequestCounting } from '../../../../src/operator/kube/counting-client.ts';
import type { KubeClient } from '../../../../src/operator/kube/client.ts';
import type { ResourceType } from '../../../../src/operator/kube/resources.ts';

const services: ResourceType = { apiVersion: 'v1', kind: 'Service', plural: 'services', namespaced: true };

describe('withRequestCounting', () => {
  const failing = () => Promise.reject(new ApiException(409, 'Conflict', '{}', {}));
  const inner: KubeClient = {
    get: (_type, location) => Promise.resolve(location.name === 'absent' ? undefined : {}),
    list: () => Promise.resolve({ items: [], metadata: {} }),
    apply: failing,
    create: () => Promise.resolve({}),
    replace: () => Promise.resolve({}),
    delete: () => Promise.resolve(true),
    discover: (apiVersion) => Promise.resolve(apiVersion === 'v1' ? ['services'] : undefined),
  };

  it('counts each request by verb, resource and status code, failures included', async () => {
    const seen: string[] = [];
    const client = withRequestCounting(inner, (verb, resource, code) => seen.push(`${verb} ${resource} ${code}`));
    await client.get(services, { namespace: 'n', name: 'present' });
    await client.get(services, { namespace: 'n', name: 'absent' });
    await client.create(services, 'n', {});
    await assert.rejects(client.apply(services, { metadata: { namespace: 'n', name: 'x' } }, { fieldManager: 'm', force: false }));
    await assert.rejects(client.apply(services, { metadata: { namespace: 'n', name: 'x' } }, { fieldManager: 'm', force: true, subresource: 'status' }));
    await client.discover('v1');
    await client.discover('example.com/v9');
    assert.deepEqual(seen, [
      'get services 200',
      'get services 404',
      'create services 201',
      'apply services 409',
      'apply-status services 409',
      'discover v1 200',
      'discover example.com/v9 404',
    ]);
  });
});
