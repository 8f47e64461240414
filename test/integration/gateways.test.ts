// Gateways on a real API server with the operator as a process: two experiments that claim the same
// host (the later one is refused with HostConflict, naming the other, and the first keeps its
// traffic), TLS on the rendered Gateway, and attaching to a shared Gateway instead of rendering one.
import assert from 'node:assert/strict';
import { API_VERSION, KIND, type SmsExperiment } from '../../src/crd/schema.ts';
import { createKubeClient, type KubeClient } from '../../src/operator/kube/client.ts';
import { resourceTypeOf } from '../../src/operator/kube/resources.ts';
import { experimentNames } from '../../src/operator/render/index.ts';
import { useCluster, type TestCluster } from '../support/cluster.ts';
import { installCrd } from '../support/crd.ts';
import { eventually } from '../support/eventually.ts';
import { dumpLogsOnFailure, operatorKubeconfig, OperatorProcess } from '../support/operator.ts';
import { conditionOf, readExperiment } from '../support/owned-objects.ts';

const GATEWAY = resourceTypeOf({ apiVersion: 'networking.istio.io/v1', kind: 'Gateway' });
const VIRTUAL_SERVICE = resourceTypeOf({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService' });

describe('gateways: host conflicts, TLS and shared Gateways', function () {
  this.timeout(120_000);
  let cluster: TestCluster;
  let client: KubeClient;
  let operator: OperatorProcess;
  const ns = { first: '', second: '', tls: '', shared: '' };

  before(async function () {
    this.timeout(180_000);
    cluster = await useCluster();
    await installCrd(cluster);
    client = createKubeClient(cluster.kubeConfig);
    for (const key of Object.keys(ns) as Array<keyof typeof ns>) ns[key] = await cluster.createNamespace(`gw-${key}`);
    operator = new OperatorProcess({
      name: 'gateways',
      kubeconfigPath: await operatorKubeconfig(cluster),
      namespaces: Object.values(ns),
      refuseSharedHosts: true,
      args: ['--log-level', 'debug', '--leader-election-lease-name', 'smsx-test-gateways'],
    });
    await operator.start();
  });

  afterEach(async function () {
    await dumpLogsOnFailure(this, [operator]);
  });

  after(async () => {
    await operator?.stop();
  });

  async function apply(namespace: string, name: string, spec: unknown): Promise<void> {
    const result = await cluster.kubectl(['apply', '-n', namespace, '-f', '-'], { input: JSON.stringify({ apiVersion: API_VERSION, kind: KIND, metadata: { name }, spec }) });
    assert.equal(result.code, 0, result.stderr);
  }

  async function ready(namespace: string, name: string): Promise<SmsExperiment> {
    return eventually(`${namespace}/${name} Ready`, async () => {
      const experiment = await readExperiment(client, namespace, name);
      assert.equal(conditionOf(experiment, 'Ready')?.status, 'True', JSON.stringify(experiment?.status?.conditions));
      return experiment as SmsExperiment;
    }, { timeoutMs: 60_000 });
  }

  it('refuses the later of two experiments that claim the same host, naming the other; the first keeps its routing', async () => {
    await apply(ns.first, 'alpha', { istio: { hosts: { experiment: 'shop.example.com', stable: 'stable.shop.example.com', canary: 'canary.shop.example.com' } } });
    const first = await ready(ns.first, 'alpha');
    assert.deepEqual(first.status?.claimedHosts, ['shop.example.com', 'stable.shop.example.com', 'canary.shop.example.com']);
    const firstVs = (await client.get(VIRTUAL_SERVICE, { namespace: ns.first, name: experimentNames('alpha').appVirtualService })) as { metadata: { resourceVersion: string } };

    // Another namespace, another experiment, one host in common.
    await apply(ns.second, 'beta', { istio: { hosts: { experiment: 'shop.example.com', stable: 'stable.beta.example.com', canary: 'canary.beta.example.com' } } });
    const refused = await eventually('beta refused with HostConflict', async () => {
      const experiment = await readExperiment(client, ns.second, 'beta');
      const degraded = conditionOf(experiment, 'Degraded');
      assert.equal(degraded?.reason, 'HostConflict', JSON.stringify(experiment?.status?.conditions));
      return experiment as SmsExperiment;
    }, { timeoutMs: 30_000 });
    const message = conditionOf(refused, 'Degraded')?.message ?? '';
    assert.match(message, new RegExp(`host shop.example.com .* already routed by SmsExperiment ${ns.first}/alpha`));
    assert.equal(conditionOf(refused, 'Ready')?.status, 'False');
    // Nothing of beta's was applied, and alpha's routing is untouched.
    assert.equal(await client.get(GATEWAY, { namespace: ns.second, name: experimentNames('beta').gateway }), undefined);
    const afterVs = (await client.get(VIRTUAL_SERVICE, { namespace: ns.first, name: experimentNames('alpha').appVirtualService })) as { metadata: { resourceVersion: string } };
    assert.equal(afterVs.metadata.resourceVersion, firstVs.metadata.resourceVersion);
    const events = await cluster.kubectl(['get', 'events', '-n', ns.second, '--field-selector', 'reason=HostConflict,type=Warning', '-o', 'jsonpath={.items[*].message}']);
    assert.match(events.stdout, new RegExp(`${ns.first}/alpha`));

    // The first one lets the host go: the second takes it at its next retry.
    await cluster.kubectl(['delete', 'smsx', '-n', ns.first, 'alpha', '--wait=true']);
    const taken = await ready(ns.second, 'beta');
    assert.ok(taken.status?.claimedHosts?.includes('shop.example.com'));
  });

  it('terminates TLS at the rendered Gateway with a redirect from HTTP', async () => {
    await apply(ns.tls, 'secure', { istio: { tls: { credentialName: 'sms-app-tls' } } });
    await ready(ns.tls, 'secure');
    const gateway = (await client.get(GATEWAY, { namespace: ns.tls, name: experimentNames('secure').gateway })) as { spec: { servers: unknown[] } };
    assert.deepEqual(gateway.spec.servers, [
      { port: { number: 443, name: 'https', protocol: 'HTTPS' }, hosts: ['sms-app.local', 'stable.sms-app.local', 'canary.sms-app.local'], tls: { mode: 'SIMPLE', credentialName: 'sms-app-tls' } },
      { port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['sms-app.local', 'stable.sms-app.local', 'canary.sms-app.local'], tls: { httpsRedirect: true } },
    ]);
  });

  it('attaches to a shared Gateway instead of rendering one', async () => {
    await apply(ns.shared, 'attached', { istio: { gateway: { name: 'public', namespace: 'istio-ingress' }, hosts: { experiment: 'attached.example.com', stable: 'stable.attached.example.com', canary: 'canary.attached.example.com' } } });
    const experiment = await ready(ns.shared, 'attached');
    assert.equal(await client.get(GATEWAY, { namespace: ns.shared, name: experimentNames('attached').gateway }), undefined);
    assert.ok(!(experiment.status?.ownedObjects ?? []).some((object) => object.kind === 'Gateway'));
    const vs = (await client.get(VIRTUAL_SERVICE, { namespace: ns.shared, name: experimentNames('attached').appVirtualService })) as { spec: { gateways: string[] } };
    assert.deepEqual(vs.spec.gateways, ['istio-ingress/public']);
  });
});
