// The deployment manifests of config/ checked against the code they deploy: the ClusterRole grants
// exactly what the operator does to every kind the renderer emits, the Deployment's flags are ones
// the operator accepts, and its probes point at the port it serves them on.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { GROUP, PLURAL } from '../../../src/crd/schema.ts';
import { loadConfig } from '../../../src/operator/config.ts';
import { renderableKinds } from '../../../src/operator/render/index.ts';

const configDir = path.resolve(import.meta.dirname, '../../../config');
const readYaml = async (file: string): Promise<unknown> => parse(await readFile(path.join(configDir, file), 'utf8'));

const ruleSchema = z.object({ apiGroups: z.array(z.string()), resources: z.array(z.string()), verbs: z.array(z.string()) });
const roleSchema = z.looseObject({ kind: z.string(), metadata: z.looseObject({ name: z.string() }), rules: z.array(ruleSchema) });
const bindingSchema = z.looseObject({
  roleRef: z.looseObject({ kind: z.string(), name: z.string() }),
  subjects: z.array(z.looseObject({ kind: z.string(), name: z.string(), namespace: z.string() })),
});

/** "group/resource" → sorted verbs, merged over every rule. */
function grants(rules: ReadonlyArray<z.output<typeof ruleSchema>>): Map<string, string[]> {
  const table = new Map<string, Set<string>>();
  for (const rule of rules) {
    for (const group of rule.apiGroups) {
      for (const resource of rule.resources) {
        const key = `${group}/${resource}`;
        table.set(key, new Set([...(table.get(key) ?? []), ...rule.verbs]));
      }
    }
  }
  return new Map([...table].map(([key, verbs]) => [key, [...verbs].sort()]));
}

const OWNED_VERBS = ['create', 'delete', 'get', 'list', 'patch', 'watch'];

describe('config/ manifests', () => {
  describe('ClusterRole', () => {
    it('grants get, list, watch, create, patch and delete on every kind the renderer can emit', async () => {
      const role = roleSchema.parse(await readYaml('rbac/role.yaml'));
      const table = grants(role.rules);
      for (const kind of renderableKinds()) {
        assert.deepEqual(table.get(`${kind.group}/${kind.plural}`), OWNED_VERBS, `${kind.kind} (${kind.apiVersion})`);
      }
    });

    it('grants nothing beyond what the operator does', async () => {
      const role = roleSchema.parse(await readYaml('rbac/role.yaml'));
      const expected = new Map<string, string[]>([
        ...renderableKinds().map((kind): [string, string[]] => [`${kind.group}/${kind.plural}`, OWNED_VERBS]),
        [`${GROUP}/${PLURAL}`, ['list', 'watch']],
        [`${GROUP}/${PLURAL}/status`, ['patch']],
        [`${GROUP}/${PLURAL}/finalizers`, ['update']],
        ['/pods', ['list', 'watch']],
        ['apiextensions.k8s.io/customresourcedefinitions', ['get']],
        ['events.k8s.io/events', ['create']],
      ]);
      assert.deepEqual(Object.fromEntries([...grants(role.rules)].sort()), Object.fromEntries([...expected].sort()));
    });

    it('is bound, with the leader-election Role, to the operator’s ServiceAccount', async () => {
      const electionRole = roleSchema.parse(await readYaml('rbac/leader_election_role.yaml'));
      assert.deepEqual(Object.fromEntries(grants(electionRole.rules)), { 'coordination.k8s.io/leases': ['create', 'get', 'update'] });
      for (const [file, roleKind] of [['rbac/role_binding.yaml', 'ClusterRole'], ['rbac/leader_election_role_binding.yaml', 'Role']] as const) {
        const binding = bindingSchema.parse(await readYaml(file));
        assert.equal(binding.roleRef.kind, roleKind);
        assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'sms-experiment-operator', namespace: 'sms-experiment-system' }]);
      }
    });
  });

  describe('the operator Deployment', () => {
    const containerSchema = z.looseObject({
      image: z.string(),
      args: z.array(z.string()),
      ports: z.array(z.looseObject({ name: z.string(), containerPort: z.number() })),
      livenessProbe: z.looseObject({ httpGet: z.looseObject({ path: z.string(), port: z.string() }) }),
      readinessProbe: z.looseObject({ httpGet: z.looseObject({ path: z.string(), port: z.string() }) }),
      env: z.array(z.looseObject({ name: z.string(), value: z.string().optional() })),
      securityContext: z.looseObject({
        allowPrivilegeEscalation: z.literal(false),
        readOnlyRootFilesystem: z.literal(true),
        runAsNonRoot: z.literal(true),
        capabilities: z.looseObject({ drop: z.array(z.string()) }),
      }),
    });
    const deploymentSchema = z.looseObject({
      spec: z.looseObject({
        template: z.looseObject({
          spec: z.looseObject({
            serviceAccountName: z.string(),
            securityContext: z.looseObject({ runAsNonRoot: z.literal(true), seccompProfile: z.looseObject({ type: z.literal('RuntimeDefault') }) }),
            containers: z.tuple([containerSchema]),
          }),
        }),
      }),
    });

    it('runs the operator image with flags the operator accepts, probed where it serves /healthz and /readyz', async () => {
      const deployment = deploymentSchema.parse(await readYaml('manager/manager.yaml'));
      const pod = deployment.spec.template.spec;
      const [container] = pod.containers;
      assert.equal(container.image, 'ghcr.io/sms-experiment/operator:0.1.0');
      assert.equal(pod.serviceAccountName, 'sms-experiment-operator');
      assert.deepEqual(container.securityContext.capabilities.drop, ['ALL']);

      const result = loadConfig({ argv: container.args, env: { POD_NAMESPACE: 'sms-experiment-system' }, hostname: 'pod', pid: 1 });
      assert.equal(result.kind, 'config');
      const metricsPort = container.ports.find((port) => port.name === 'metrics');
      assert.equal(metricsPort?.containerPort, result.config.metrics.port);
      assert.equal(result.config.metrics.bindAddress, '0.0.0.0', 'the kubelet probes the pod IP');
      assert.ok(result.config.leaderElection.enabled);
      assert.deepEqual([container.livenessProbe.httpGet.path, container.livenessProbe.httpGet.port], ['/healthz', 'metrics']);
      assert.deepEqual([container.readinessProbe.httpGet.path, container.readinessProbe.httpGet.port], ['/readyz', 'metrics']);
    });

    it('sizes the heap from the container\'s memory limit with a flag the image\'s Node accepts in NODE_OPTIONS', async () => {
      const deployment = deploymentSchema.parse(await readYaml('manager/manager.yaml'));
      const [container] = deployment.spec.template.spec.containers;
      const nodeOptions = container.env.find((entry) => entry.name === 'NODE_OPTIONS')?.value ?? '';
      assert.deepEqual(nodeOptions.split(' '), ['--max-old-space-size-percentage=40']);
      // The Node of the tests is the image's (hack/lib/setup.sh and the Dockerfile pin the same).
      assert.ok(process.allowedNodeEnvironmentFlags.has('--max-old-space-size-percentage'));
    });

    it('is tied to the CRD and RBAC in one namespace by config/default', async () => {
      const kustomization = z.looseObject({ namespace: z.string(), resources: z.array(z.string()) }).parse(await readYaml('default/kustomization.yaml'));
      assert.equal(kustomization.namespace, 'sms-experiment-system');
      assert.deepEqual(kustomization.resources, ['../crd', '../rbac', '../manager']);
    });
  });
});
