// Deployments for the app and model versions. Pods satisfy the restricted Pod Security Standard,
// except that a hostPath model volume is itself forbidden by it (see modelStorageVolume).
import type {
  V1Container,
  V1EnvVar,
  V1PodSecurityContext,
  V1PodSpec,
  V1Probe,
  V1ResourceRequirements,
  V1SecurityContext,
  V1Volume,
} from '@kubernetes/client-node';
import { objectMetadata, type RenderContext } from './context.ts';
import {
  COMPONENT_LABEL,
  CONFIG_HASH_ANNOTATION,
  EXPERIMENT_LABEL,
  ISTIO_APP_LABEL,
  ISTIO_INJECT_LABEL,
  ROLE_LABEL,
  standardLabels,
  type Role,
} from './labels.ts';
import type { SmsExperimentSpec } from '../../crd/schema.ts';
import type { DeploymentObject, Labels, PodDisruptionBudgetObject } from './types.ts';

/** Numeric ids let the kubelet enforce runAsNonRoot without reading the image's /etc/passwd. */
export const RUN_AS_ID = 10001;
export const MODEL_MOUNT_PATH = '/models';
const TMP_VOLUME = 'tmp';
const MODEL_VOLUME = 'models';

// Functions rather than shared constants: every rendered object is a fresh tree a caller may mutate.
function resources(memoryLimit: string): V1ResourceRequirements {
  return { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1', memory: memoryLimit } };
}

function podSecurityContext(): V1PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: RUN_AS_ID,
    runAsGroup: RUN_AS_ID,
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

function containerSecurityContext(): V1SecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: RUN_AS_ID,
    runAsGroup: RUN_AS_ID,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

function httpProbe(path: string, periodSeconds: number, failureThreshold: number): V1Probe {
  return { httpGet: { path, port: 'http' }, periodSeconds, failureThreshold, timeoutSeconds: 2 };
}

function probes(): Pick<V1Container, 'readinessProbe' | 'livenessProbe' | 'startupProbe'> {
  return {
    readinessProbe: httpProbe('/readyz', 5, 3),
    livenessProbe: httpProbe('/healthz', 10, 3),
    // A JVM can take a minute to start; the startup probe holds liveness off for up to 150s meanwhile.
    startupProbe: httpProbe('/healthz', 5, 30),
  };
}

/** The read-only root filesystem leaves /tmp as the only writable path. */
function tmpVolume(): V1Volume {
  return { name: TMP_VOLUME, emptyDir: { sizeLimit: '256Mi' } };
}

/**
 * Restricted PSS forbids hostPath volumes outright, so only the persistentVolumeClaim option is
 * PSS-clean; hostPath stays supported because the seed's VMs share /mnt/shared/models that way.
 * `Directory` (not the seed's DirectoryOrCreate): the mount is read-only, so an auto-created empty
 * directory could only produce a model that fails later; a missing directory should fail the pod now.
 */
function modelStorageVolume(context: RenderContext): V1Volume {
  const { persistentVolumeClaim, hostPath } = context.spec.storage;
  if (persistentVolumeClaim !== undefined) {
    return { name: MODEL_VOLUME, persistentVolumeClaim: { claimName: persistentVolumeClaim, readOnly: true } };
  }
  return { name: MODEL_VOLUME, hostPath: { path: hostPath ?? '', type: 'Directory' } };
}

/** A version's workload settings from the spec (resources, placement, pull secrets, labels, autoscaling). */
type WorkloadSettings = Pick<SmsExperimentSpec['app']['stable'], 'resources' | 'nodeSelector' | 'tolerations' | 'affinity' | 'imagePullSecrets' | 'podLabels' | 'autoscaled'>;

/** The user's resources replace the defaults whole: a partial merge could put a limit below a default request. */
function resourcesOf(settings: WorkloadSettings, memoryLimit: string): V1ResourceRequirements {
  const given = settings.resources;
  if (given === undefined) return resources(memoryLimit);
  const list = (entries: { cpu?: string | undefined; memory?: string | undefined } | undefined) =>
    entries === undefined ? undefined : Object.fromEntries(Object.entries(entries).filter((entry): entry is [string, string] => entry[1] !== undefined));
  const requests = list(given.requests);
  const limits = list(given.limits);
  return { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) };
}

function podSpec(container: V1Container, volumes: V1Volume[], settings: WorkloadSettings): V1PodSpec {
  return {
    // The Istio sidecar brings its own projected token; the workloads never call the API server.
    automountServiceAccountToken: false,
    // Service-link variables (SMS_APP_MODEL_PORT=tcp://...) could shadow the env the images read.
    enableServiceLinks: false,
    securityContext: podSecurityContext(),
    containers: [container],
    volumes,
    ...(settings.nodeSelector === undefined ? {} : { nodeSelector: { ...settings.nodeSelector } }),
    ...(settings.tolerations === undefined ? {} : { tolerations: settings.tolerations.map((toleration) => ({ ...toleration })) }),
    ...(settings.affinity === undefined ? {} : { affinity: structuredClone(settings.affinity) }),
    ...(settings.imagePullSecrets === undefined ? {} : { imagePullSecrets: settings.imagePullSecrets.map((name) => ({ name })) }),
  };
}

interface Workload {
  component: 'app' | 'model';
  role: Role;
  name: string;
  version: string;
  replicas: number;
  container: V1Container;
  volumes: V1Volume[];
  podAnnotations?: Record<string, string>;
  userPodAnnotations: Record<string, string> | undefined;
  settings: WorkloadSettings;
}

function deployment(context: RenderContext, workload: Workload): DeploymentObject {
  const { experiment, names } = context;
  const { component, role, version } = workload;
  // Selectors are immutable, so they use the role and never the (editable) version label.
  const selector: Labels = { [EXPERIMENT_LABEL]: experiment, [COMPONENT_LABEL]: component, [ROLE_LABEL]: role };
  const labels = { ...standardLabels(experiment, component, version), [ROLE_LABEL]: role };
  // The user's annotations first: the operator's own (config hash) win, though the CRD refuses clashes.
  const annotations = { ...workload.userPodAnnotations, ...workload.podAnnotations };
  // The user's labels first: the operator's own win (the CRD refuses those keys anyway).
  const podLabels: Labels = {
    ...workload.settings.podLabels,
    ...labels,
    [ISTIO_APP_LABEL]: component === 'app' ? names.appWorkload : names.modelWorkload,
    [ISTIO_INJECT_LABEL]: 'true',
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: objectMetadata(context, workload.name, labels),
    spec: {
      // Autoscaled: no replicas in the applied object, so the HorizontalPodAutoscaler owns the field.
      ...(workload.settings.autoscaled === true ? {} : { replicas: workload.replicas }),
      // The Deployment controller marks a rollout stalled after this; the experiment then reads Degraded.
      progressDeadlineSeconds: context.spec.progressDeadlineSeconds,
      selector: { matchLabels: selector },
      template: {
        metadata: {
          labels: podLabels,
          ...(Object.keys(annotations).length === 0 ? {} : { annotations }),
        },
        spec: podSpec(workload.container, workload.volumes, workload.settings),
      },
    },
  };
}

function appDeployment(context: RenderContext, role: 'stable' | 'canary', configHash: string): DeploymentObject {
  const { spec, names } = context;
  const version = spec.app[role];
  return deployment(context, {
    component: 'app',
    role,
    name: names.appDeployment[role],
    version: version.version,
    replicas: version.replicas,
    podAnnotations: { [CONFIG_HASH_ANNOTATION]: configHash },
    userPodAnnotations: version.podAnnotations,
    settings: version,
    volumes: [tmpVolume()],
    container: {
      name: 'app',
      image: version.image,
      ports: [{ name: 'http', containerPort: spec.app.port, protocol: 'TCP' }],
      envFrom: [{ configMapRef: { name: names.config } }],
      env: [{ name: 'APP_VERSION', value: version.version }],
      resources: resourcesOf(version, '512Mi'),
      securityContext: containerSecurityContext(),
      volumeMounts: [{ name: TMP_VOLUME, mountPath: '/tmp' }],
      ...probes(),
    },
  });
}

function modelDeployment(context: RenderContext, role: Role): DeploymentObject {
  const { spec, names } = context;
  const version = spec.model[role];
  const env: V1EnvVar[] = [
    { name: 'MODEL_PORT', value: String(spec.model.port) },
    { name: 'MODEL_DIR', value: MODEL_MOUNT_PATH },
    { name: 'MODEL_VERSION', value: version.artifact },
    { name: 'MODEL_PATH', value: `${MODEL_MOUNT_PATH}/${version.artifact}` },
    { name: 'SHADOW_MODE', value: String(role === 'shadow') },
  ];
  // The shadow also loads the stable artifact, to classify every mirrored message with both.
  if (role === 'shadow') {
    const stable = spec.model.stable.artifact;
    env.push({ name: 'STABLE_MODEL_VERSION', value: stable }, { name: 'STABLE_MODEL_PATH', value: `${MODEL_MOUNT_PATH}/${stable}` });
  }
  return deployment(context, {
    component: 'model',
    role,
    name: names.modelDeployment[role],
    version: version.version,
    replicas: version.replicas,
    userPodAnnotations: version.podAnnotations,
    settings: version,
    volumes: [tmpVolume(), modelStorageVolume(context)],
    container: {
      name: 'model',
      image: version.image,
      ports: [{ name: 'http', containerPort: spec.model.port, protocol: 'TCP' }],
      env,
      resources: resourcesOf(version, '1Gi'),
      securityContext: containerSecurityContext(),
      volumeMounts: [
        { name: TMP_VOLUME, mountPath: '/tmp' },
        { name: MODEL_VOLUME, mountPath: MODEL_MOUNT_PATH, readOnly: true },
      ],
      ...probes(),
    },
  });
}

/** A Deployment the experiment runs, as the controller needs to know it (status, readiness). */
export interface PlannedWorkload {
  component: 'app' | 'model';
  role: Role;
  version: string;
  /** The Deployment's name. */
  deployment: string;
  replicas: number;
}

/** The Deployments of the experiment's mode: app and model for stable and canary, or a model shadow. */
export function plannedWorkloads(context: RenderContext): PlannedWorkload[] {
  const { spec, names } = context;
  const app = (role: 'stable' | 'canary'): PlannedWorkload => ({
    component: 'app',
    role,
    version: spec.app[role].version,
    deployment: names.appDeployment[role],
    replicas: spec.app[role].replicas,
  });
  const model = (role: Role): PlannedWorkload => ({
    component: 'model',
    role,
    version: spec.model[role].version,
    deployment: names.modelDeployment[role],
    replicas: spec.model[role].replicas,
  });
  return spec.mode === 'canary' ? [app('stable'), app('canary'), model('stable'), model('canary')] : [app('stable'), model('stable'), model('shadow')];
}

/**
 * A PodDisruptionBudget per Deployment that runs more than one pod (or that an autoscaler may scale
 * up): a node drain then takes one pod at a time. With a single pod a budget would block every
 * drain, so there is none.
 */
export function renderDisruptionBudgets(context: RenderContext, deployments: readonly DeploymentObject[]): PodDisruptionBudgetObject[] {
  const { spec } = context;
  return plannedWorkloads(context).flatMap((workload, index) => {
    const settings: WorkloadSettings = workload.component === 'app' ? spec.app[workload.role as 'stable' | 'canary'] : spec.model[workload.role];
    const deployment = deployments[index];
    if (deployment === undefined || (workload.replicas <= 1 && settings.autoscaled !== true)) return [];
    return [
      {
        apiVersion: 'policy/v1',
        kind: 'PodDisruptionBudget',
        metadata: objectMetadata(context, workload.deployment, { ...deployment.metadata.labels }),
        spec: { maxUnavailable: 1, selector: { matchLabels: { ...(deployment.spec.selector.matchLabels ?? {}) } } },
      },
    ];
  });
}

export function renderWorkloads(context: RenderContext, configHash: string): DeploymentObject[] {
  return plannedWorkloads(context).map((workload) =>
    workload.component === 'app' && workload.role !== 'shadow' ? appDeployment(context, workload.role, configHash) : modelDeployment(context, workload.role),
  );
}
