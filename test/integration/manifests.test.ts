// config/default as a user applies it: the real API server accepts every object (server-side dry
// run: schema, RBAC references, admission), and the operator's pods pass restricted Pod Security.
import assert from 'node:assert/strict';
import path from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { z } from 'zod';
import { useCluster, type TestCluster } from '../support/cluster.ts';
import { installCrd } from '../support/crd.ts';

const repositoryRoot = path.resolve(import.meta.dirname, '../..');
const DEFAULT = path.join(repositoryRoot, 'config/default');

describe('config/default on a real API server', function () {
  this.timeout(60_000);
  let cluster: TestCluster;

  before(async function () {
    this.timeout(180_000);
    cluster = await useCluster();
    await installCrd(cluster);
    // A dry run creates nothing, so objects inside the new namespace need it to exist already; the
    // namespace's labels are also what Pod Security admission reads.
    const namespace = await cluster.kubectl(['apply', '--server-side', '--field-manager=smsx-tests', '-f', path.join(repositoryRoot, 'config/manager/namespace.yaml')]);
    assert.equal(namespace.code, 0, namespace.stderr);
  });

  it('is accepted by `kubectl apply --dry-run=server -k config/default`, with no Pod Security warning', async () => {
    const result = await cluster.kubectl(['apply', '--dry-run=server', '-k', DEFAULT]);
    assert.equal(result.code, 0, result.stderr);
    for (const object of [
      'namespace/sms-experiment-system',
      'customresourcedefinition.apiextensions.k8s.io/smsexperiments.experiments.sms-app.io',
      'serviceaccount/sms-experiment-operator',
      'role.rbac.authorization.k8s.io/sms-experiment-operator-leader-election',
      'clusterrole.rbac.authorization.k8s.io/sms-experiment-operator',
      'rolebinding.rbac.authorization.k8s.io/sms-experiment-operator-leader-election',
      'clusterrolebinding.rbac.authorization.k8s.io/sms-experiment-operator',
      'service/sms-experiment-operator-metrics',
      'deployment.apps/sms-experiment-operator',
    ]) {
      assert.match(result.stdout, new RegExp(`^${object.replaceAll('.', '\\.')} \\w+ \\(server dry run\\)$`, 'm'));
    }
    assert.doesNotMatch(result.stderr, /PodSecurity/);
  });

  it('would be warned about by Pod Security without its security contexts (the check above can fail)', async () => {
    const built = await cluster.kubectl(['kustomize', DEFAULT]);
    assert.equal(built.code, 0, built.stderr);
    const deployment = z
      .looseObject({ kind: z.literal('Deployment'), spec: z.looseObject({ template: z.looseObject({ spec: z.looseObject({ securityContext: z.unknown(), containers: z.array(z.looseObject({ securityContext: z.unknown() })) }) }) }) })
      .parse(parseAllDocuments(built.stdout).map((document) => document.toJSON() as unknown).find((object) => z.looseObject({ kind: z.literal('Deployment') }).safeParse(object).success));
    delete deployment.spec.template.spec.securityContext;
    for (const container of deployment.spec.template.spec.containers) delete container.securityContext;
    const result = await cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: stringify(deployment) });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /would violate PodSecurity "restricted:latest"/);
  });
});
