import assert from 'node:assert/strict';
import { OwnWrites } from '../../../../src/operator/runtime/own-writes.ts';

describe('own writes', () => {
  const at = (resourceVersion: string, name = 'demo-app') => ({ namespace: 'ns', name, resourceVersion });

  it('knows the event of our own write once, by kind, namespace, name and version', () => {
    const writes = new OwnWrites();
    writes.record('Deployment', at('5'));
    assert.equal(writes.isEcho('Service', at('5')), false, 'another kind');
    assert.equal(writes.isEcho('Deployment', at('5', 'other')), false, 'another object');
    assert.equal(writes.isEcho('Deployment', at('5')), true);
    assert.equal(writes.isEcho('Deployment', at('5')), false, 'consumed: a relist of the same version enqueues');
    assert.equal(writes.size, 0);
  });

  it('never takes another version for ours, and forgets the record on it', () => {
    const writes = new OwnWrites();
    writes.record('Deployment', at('5'));
    assert.equal(writes.isEcho('Deployment', at('6')), false, 'the controller-manager wrote after us');
    assert.equal(writes.isEcho('Deployment', at('5')), false, 'the record went with the newer event');
    assert.equal(writes.size, 0);
  });

  it('keeps one record per object, the last write, and none for a response without a version', () => {
    const writes = new OwnWrites();
    writes.record('Deployment', at('5'));
    writes.record('Deployment', at('7'));
    writes.record('Deployment', { namespace: 'ns', name: 'no-version' });
    assert.equal(writes.size, 1);
    assert.equal(writes.isEcho('Deployment', at('7')), true);
  });
});
