import assert from 'node:assert/strict';
import type { V1Container, V1PodSpec } from '@kubernetes/client-node';
import { render, type DeploymentObject } from '../../../src/operator/render/index.ts';
import { byName, experiment, ofKind } from './fixtures.ts';

function podSpec(deployment: DeploymentObject): V1PodSpec {
  const spec = deployment.spec.template.spec;
  assert.ok(spec, deployment.metadata.name);
  return spec;
}

function container(deployment: DeploymentObject): V1Container {
  const [first, ...rest] = podSpec(deployment).containers;
  assert.ok(first && rest.length === 0, 'one container per pod (plus the injected sidecar)');
  return first;
}

function env(deployment: DeploymentObject): Record<string, string | undefined> {
  return Object.fromEntries((container(deployment).env ?? []).map((variable) => [variable.name, variable.value]));
}

const allDeployments = (['canary', 'shadow'] as const).flatMap((mode) =>
  ofKind(render(experiment({ mode })), 'Deployment').map((deployment) => ({ mode, deployment })),
);

describe('render: workloads', () => {
  for (const { mode, deployment } of allDeployments) {
    it(`${mode}: ${deployment.metadata.name} (${deployment.metadata.labels.version}) runs restricted-PSS pods with probes and limits`, () => {
      const pod = podSpec(deployment);
      const main = container(deployment);
      assert.equal(pod.securityContext?.runAsNonRoot, true);
      assert.equal(typeof pod.securityContext?.runAsUser, 'number');
      assert.equal(typeof pod.securityContext?.runAsGroup, 'number');
      assert.deepEqual(pod.securityContext?.seccompProfile, { type: 'RuntimeDefault' });
      assert.equal(main.securityContext?.allowPrivilegeEscalation, false);
      assert.equal(main.securityContext?.readOnlyRootFilesystem, true);
      assert.equal(main.securityContext?.runAsNonRoot, true);
      assert.deepEqual(main.securityContext?.capabilities, { drop: ['ALL'] });
      assert.deepEqual(main.securityContext?.seccompProfile, { type: 'RuntimeDefault' });
      assert.equal(main.securityContext?.privileged, undefined);

      assert.ok(main.resources?.requests?.cpu && main.resources.requests.memory);
      assert.ok(main.resources.limits?.cpu && main.resources.limits.memory);
      assert.deepEqual(main.readinessProbe?.httpGet, { path: '/readyz', port: 'http' });
      assert.deepEqual(main.livenessProbe?.httpGet, { path: '/healthz', port: 'http' });
      assert.equal(main.ports?.[0]?.name, 'http', 'Prometheus and the Services address the port by name');

      const tmp = pod.volumes?.find((volume) => volume.emptyDir !== undefined);
      assert.ok(tmp && main.volumeMounts?.some((mount) => mount.name === tmp.name && mount.mountPath === '/tmp'));
    });
  }

  for (const { mode, deployment } of allDeployments) {
    it(`${mode}: ${deployment.metadata.name} pods carry the Istio labels and a selector that survives a version change`, () => {
      const labels = deployment.spec.template.metadata?.labels ?? {};
      assert.equal(labels.version, deployment.metadata.labels.version);
      assert.match(labels.app ?? '', /^sms-app-(app|model)$/);
      assert.equal(labels['sidecar.istio.io/inject'], 'true');
      const selector = deployment.spec.selector.matchLabels ?? {};
      assert.equal(selector.version, undefined, 'Deployment selectors are immutable; the version is not');
      for (const [key, value] of Object.entries(selector)) assert.equal(labels[key], value, `pod labels satisfy ${key}`);
    });
  }

  it('runs the configured images and replicas', () => {
    const objects = render(
      experiment({ app: { canary: { image: 'registry.local/app:2', replicas: 3 } }, model: { canary: { image: 'registry.local/model:2', replicas: 0 } }, traffic: { weights: { stable: 100, canary: 0 } } }),
    );
    const appCanary = byName(objects, 'Deployment', 'sms-app-app-canary');
    assert.equal(container(appCanary).image, 'registry.local/app:2');
    assert.equal(appCanary.spec.replicas, 3);
    assert.equal(byName(objects, 'Deployment', 'sms-app-model-canary').spec.replicas, 0);
  });

  it('gives app pods the ConfigMap through envFrom, and the ConfigMap the model Service URL and ports', () => {
    const objects = render(experiment({ app: { port: 9090 }, model: { port: 5000 } }));
    for (const name of ['sms-app-app', 'sms-app-app-canary']) {
      const app = container(byName(objects, 'Deployment', name));
      assert.deepEqual(app.envFrom, [{ configMapRef: { name: 'sms-app-config' } }]);
      assert.equal(app.ports?.[0]?.containerPort, 9090);
    }
    assert.deepEqual(byName(objects, 'ConfigMap', 'sms-app-config').data, {
      APP_SERVER_PORT: '9090',
      MODEL_HOST: 'http://sms-app-model.sms-app.svc:5000',
      MODEL_PORT: '5000',
    });
  });

  it('tells each model version where its artifact is, and only the shadow that it is one', () => {
    assert.deepEqual(env(byName(render(experiment({ model: { canary: { artifact: '2024-06' } } })), 'Deployment', 'sms-app-model-canary')), {
      MODEL_PORT: '8081',
      MODEL_DIR: '/models',
      MODEL_VERSION: '2024-06',
      MODEL_PATH: '/models/2024-06',
      SHADOW_MODE: 'false',
    });
    const shadow = render(experiment({ mode: 'shadow' }));
    assert.equal(env(byName(shadow, 'Deployment', 'sms-app-model-shadow')).SHADOW_MODE, 'true');
    assert.equal(env(byName(shadow, 'Deployment', 'sms-app-model')).SHADOW_MODE, 'false');
  });

  it('gives only the shadow the stable artifact to compare its answers with', () => {
    const shadow = render(experiment({ mode: 'shadow', model: { stable: { artifact: '2024-05' }, shadow: { artifact: '2024-06' } } }));
    const shadowEnv = env(byName(shadow, 'Deployment', 'sms-app-model-shadow'));
    assert.equal(shadowEnv.MODEL_PATH, '/models/2024-06');
    assert.equal(shadowEnv.STABLE_MODEL_VERSION, '2024-05');
    assert.equal(shadowEnv.STABLE_MODEL_PATH, '/models/2024-05');
    assert.equal(env(byName(shadow, 'Deployment', 'sms-app-model')).STABLE_MODEL_VERSION, undefined);
    assert.equal(env(byName(render(experiment()), 'Deployment', 'sms-app-model-canary')).STABLE_MODEL_VERSION, undefined);
  });

  it('mounts the model storage read-only at /models: hostPath by default, or the PVC', () => {
    const mountOf = (deployment: DeploymentObject) => {
      const mount = container(deployment).volumeMounts?.find((candidate) => candidate.mountPath === '/models');
      return { mount, volume: podSpec(deployment).volumes?.find((volume) => volume.name === mount?.name) };
    };
    const hostPath = mountOf(byName(render(experiment()), 'Deployment', 'sms-app-model'));
    assert.equal(hostPath.mount?.readOnly, true);
    assert.deepEqual(hostPath.volume?.hostPath, { path: '/mnt/shared/models', type: 'Directory' });

    for (const deployment of ofKind(render(experiment({ mode: 'shadow', storage: { persistentVolumeClaim: 'models' } })), 'Deployment')) {
      if (deployment.metadata.labels['app.kubernetes.io/component'] !== 'model') continue;
      const claim = mountOf(deployment);
      assert.equal(claim.mount?.readOnly, true);
      assert.deepEqual(claim.volume?.persistentVolumeClaim, { claimName: 'models', readOnly: true });
      assert.equal(claim.volume.hostPath, undefined, 'the PVC option is the restricted-PSS-clean one');
    }
  });

  it('does not mount model storage into app pods', () => {
    for (const deployment of ofKind(render(experiment()), 'Deployment')) {
      if (deployment.metadata.labels['app.kubernetes.io/component'] !== 'app') continue;
      assert.ok(!podSpec(deployment).volumes?.some((volume) => volume.hostPath !== undefined || volume.persistentVolumeClaim !== undefined));
    }
  });
});

describe('render: Services and Ingress', () => {
  const objects = render(experiment());

  it('names every Service port http and targets the container port by name', () => {
    for (const service of ofKind(objects, 'Service')) {
      assert.deepEqual(
        service.spec.ports?.map((port) => [port.name, port.targetPort]),
        [['http', 'http']],
        service.metadata.name,
      );
    }
  });

  it('selects all app pods for Istio, and only stable app pods for NGINX', () => {
    const selector = (name: string) => byName(objects, 'Service', name).spec.selector;
    assert.deepEqual(selector('sms-app-app'), { 'experiments.sms-app.io/experiment': 'sms-app', 'app.kubernetes.io/component': 'app' });
    assert.deepEqual(selector('sms-app-app-v1'), { 'experiments.sms-app.io/experiment': 'sms-app', 'app.kubernetes.io/component': 'app', version: 'v1' });
    assert.deepEqual(selector('sms-app-model-v2'), { 'experiments.sms-app.io/experiment': 'sms-app', 'app.kubernetes.io/component': 'model', version: 'v2' });
    assert.equal(byName(objects, 'Service', 'sms-app-app').spec.ports?.[0]?.port, 80);
  });

  it('routes the NGINX host to the stable-only Service', () => {
    const ingress = byName(render(experiment({ ingress: { host: 'nginx.example.com', className: 'public' } })), 'Ingress', 'sms-app-ingress');
    assert.equal(ingress.spec.ingressClassName, 'public');
    assert.deepEqual(ingress.spec.rules, [
      {
        host: 'nginx.example.com',
        http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'sms-app-app-v1', port: { name: 'http' } } } }] },
      },
    ]);
  });
});

describe('render: workload settings', () => {
  const settings = {
    replicas: 3,
    resources: { requests: { cpu: '250m', memory: '300Mi' }, limits: { memory: '600Mi' } },
    nodeSelector: { 'kubernetes.io/arch': 'arm64' },
    tolerations: [{ key: 'dedicated', operator: 'Equal' as const, value: 'ml', effect: 'NoSchedule' as const }, { operator: 'Exists' as const }],
    affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { team: 'ml' } } } }] } },
    imagePullSecrets: ['registry-credentials'],
    podLabels: { team: 'ml' },
  };
  const objects = render(experiment({ model: { canary: settings }, app: { canary: { autoscaled: true } } }));
  const deployments = ofKind(objects, 'Deployment');
  const canaryModel = byName(objects, 'Deployment', 'sms-app-model-canary');

  it('puts a version\'s resources, placement, pull secrets and labels on its pods, and only on its pods', () => {
    const pod = podSpec(canaryModel);
    assert.deepEqual(container(canaryModel).resources, settings.resources, 'the given resources replace the defaults whole');
    assert.deepEqual(pod.nodeSelector, settings.nodeSelector);
    assert.deepEqual(pod.tolerations, settings.tolerations);
    assert.deepEqual(pod.affinity, settings.affinity);
    assert.deepEqual(pod.imagePullSecrets, [{ name: 'registry-credentials' }]);
    assert.equal(canaryModel.spec.template.metadata?.labels?.team, 'ml');
    assert.equal(canaryModel.spec.template.metadata?.labels?.version, 'v2', 'the operator\'s labels stay');
    const stableModel = byName(objects, 'Deployment', 'sms-app-model');
    assert.equal(podSpec(stableModel).nodeSelector, undefined);
    assert.deepEqual(container(stableModel).resources, { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1', memory: '1Gi' } });
  });

  it('leaves replicas to an autoscaler when asked, and budgets disruptions of Deployments with more than one pod', () => {
    assert.equal(byName(objects, 'Deployment', 'sms-app-app-canary').spec.replicas, undefined);
    assert.equal(deployments.length, 4);
    assert.equal(canaryModel.spec.replicas, 3);
    const budgets = ofKind(objects, 'PodDisruptionBudget');
    assert.deepEqual(budgets.map((budget) => budget.metadata.name).sort(), ['sms-app-app-canary', 'sms-app-model-canary']);
    const budget = byName(objects, 'PodDisruptionBudget', 'sms-app-model-canary');
    assert.equal(budget.spec.maxUnavailable, 1);
    assert.deepEqual(budget.spec.selector.matchLabels, canaryModel.spec.selector.matchLabels);
    assert.equal(ofKind(render(experiment({})), 'PodDisruptionBudget').length, 0, 'single pods get no budget: it would block every drain');
  });
});
