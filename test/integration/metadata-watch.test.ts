// The unlabelled watch on a real API server: it receives metadata only (PartialObjectMetadata, from
// its list and its watch alike), sees only objects without the experiment label, and answers the
// applier's "does this object exist, and whose is it" without a GET.
import assert from 'node:assert/strict';
import type { KubernetesObject } from '@kubernetes/client-node';
import { createKubeClient, type KubeClient } from '../../src/operator/kube/client.ts';
import { liveObjectSchema, type LiveObject } from '../../src/operator/kube/objects.ts';
import { slimToOwnership } from '../../src/operator/kube/slim.ts';
import { CONFIG_MAP } from '../../src/operator/kube/resources.ts';
import { EXPERIMENT_LABEL } from '../../src/operator/render/labels.ts';
import { InformerSet, metadataOnlyInformerFactory, ResourceInformer } from '../../src/operator/runtime/informers.ts';
import { createLogger } from '../../src/operator/runtime/logging.ts';
import { useCluster, type TestCluster } from '../support/cluster.ts';
import { eventually } from '../support/eventually.ts';

const NAMESPACE = 'metadata-watch';

describe('the unlabelled metadata-only watch on a real API server', function () {
  this.timeout(60_000);
  let cluster: TestCluster;
  let client: KubeClient;
  const received: Array<{ name: string; keys: string[]; kind: unknown }> = [];
  let informer: ResourceInformer<LiveObject>;

  async function kubectlOk(args: string[], input?: string): Promise<void> {
    const result = await cluster.kubectl(args, input === undefined ? undefined : { input });
    assert.equal(result.code, 0, result.stderr);
  }

  function configMap(name: string, labels: Record<string, string>): string {
    return JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: NAMESPACE, labels }, data: { big: 'x'.repeat(10_000) } });
  }

  before(async () => {
    cluster = await useCluster();
    client = createKubeClient(cluster.kubeConfig);
    await kubectlOk(['create', 'namespace', NAMESPACE]);
    // Before the watch starts, so that it arrives through the list.
    await kubectlOk(['create', '-f', '-'], configMap('listed', { team: 'a' }));
    informer = new ResourceInformer<LiveObject>({
      type: CONFIG_MAP,
      namespace: NAMESPACE,
      labelSelector: `!${EXPERIMENT_LABEL}`,
      metadataOnly: true,
      schema: liveObjectSchema,
      cacheReceivedObjects: true,
      slim: (object: KubernetesObject) => {
        received.push({ name: object.metadata?.name ?? '', keys: Object.keys(object), kind: object.kind });
        return slimToOwnership(object);
      },
      keysOf: () => undefined,
      enqueue: () => undefined,
      client,
      makeInformer: metadataOnlyInformerFactory(cluster.kubeConfig),
      logger: createLogger({ level: 'silent' }),
    });
    informer.start();
    await eventually('the first list', () => Promise.resolve(assert.ok(informer.hasSynced())));
  });

  after(async () => {
    await informer?.stop();
    await cluster?.kubectl(['delete', 'namespace', NAMESPACE, '--wait=false']);
  });

  it('lists and watches metadata only, stamped with the kind, and caches who controls and manages each object', async () => {
    await kubectlOk(['create', '-f', '-'], configMap('watched', { team: 'b' }));
    await eventually('the watch event', () => Promise.resolve(assert.ok(informer.get(NAMESPACE, 'watched'))));
    for (const name of ['listed', 'watched']) {
      const seen = received.find((object) => object.name === name);
      assert.deepEqual(seen?.keys.sort(), ['apiVersion', 'kind', 'metadata'], `${name} arrived without data: the server sent metadata only`);
      assert.equal(seen?.kind, 'ConfigMap');
    }
    const cached = informer.get(NAMESPACE, 'watched');
    assert.deepEqual(Object.keys(cached?.metadata ?? {}).sort(), ['managedFields', 'name', 'namespace', 'resourceVersion', 'uid']);
    assert.deepEqual(cached?.metadata.managedFields?.map((entry) => entry.manager), ['kubectl-create']);
  });

  it('does not see objects with the experiment label, and a miss is an answer once it has listed', async () => {
    await kubectlOk(['create', '-f', '-'], configMap('labelled', { [EXPERIMENT_LABEL]: 'demo' }));
    await kubectlOk(['create', '-f', '-'], configMap('after-labelled', {}));
    await eventually('the later object', () => Promise.resolve(assert.ok(informer.get(NAMESPACE, 'after-labelled'))));
    assert.equal(informer.get(NAMESPACE, 'labelled'), undefined);
    const set = new InformerSet([informer]);
    assert.equal(set.covers(CONFIG_MAP, NAMESPACE), true);
    assert.equal(set.covers(CONFIG_MAP, 'another-namespace'), false);
  });
});
