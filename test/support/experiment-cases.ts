// Invalid and valid SmsExperiments, shared by the zod unit test and the API-server integration test so
// that both validators are held to the same tables. Each invalid one names the field its error must
// name and a fragment of the message a person reads.
import { API_VERSION, KIND } from '../../src/crd/schema.ts';
import type { SmsExperimentSpec } from '../../src/crd/schema.ts';

export interface InvalidExperiment {
  title: string;
  /** metadata.name; 'experiment' unless the case is about the name. */
  name?: string;
  spec: Record<string, unknown>;
  /** Field path the error names, as the API server prints it (spec.traffic.weights.stable). */
  field: string;
  /** Fragment of the message, from the CEL rule or zod refinement both validators share. */
  message: string;
  /** Fragment of the API server's message where it differs (its own OpenAPI bound messages). */
  serverMessage?: string;
  /** Set when only the API server rejects the case, and why zod does not. */
  serverOnly?: string;
}

/** The defaults the issue and docs/resource.md promise, written out rather than derived. */
export const DOCUMENTED_DEFAULTS: SmsExperimentSpec = {
  mode: 'canary',
  app: {
    port: 8080,
    stable: { image: 'ghcr.io/sms-experiment/app:0.1.0', replicas: 1, version: 'v1' },
    canary: { image: 'ghcr.io/sms-experiment/app:0.1.0', replicas: 1, version: 'v2' },
  },
  model: {
    port: 8081,
    stable: { image: 'ghcr.io/sms-experiment/model:0.1.0', replicas: 1, version: 'v1', artifact: 'v1' },
    canary: { image: 'ghcr.io/sms-experiment/model:0.1.0', replicas: 1, version: 'v2', artifact: 'v2' },
    shadow: { image: 'ghcr.io/sms-experiment/model:0.1.0', replicas: 1, version: 'shadow', artifact: 'v2' },
  },
  traffic: {
    weights: { stable: 90, canary: 10 },
    stickySession: { cookie: 'sms-app-version', ttl: '3600s' },
    mirrorPercent: 10,
  },
  istio: {
    hosts: { experiment: 'sms-app.local', stable: 'stable.sms-app.local', canary: 'canary.sms-app.local' },
    gatewaySelector: { istio: 'ingressgateway' },
  },
  ingress: { enabled: true, host: 'sms-nginx.local', className: 'nginx' },
  monitoring: { enabled: true, highRequestRate: { perMinute: 15, for: '2m' } },
  storage: { hostPath: '/mnt/shared/models' },
  analysis: { alpha: 0.05, slowRequestSeconds: 0.25 },
  progressDeadlineSeconds: 600,
};

const email = { to: 'oncall@example.com', from: 'alerts@example.com', smarthost: 'smtp.example.com:587' };

export const INVALID_EXPERIMENTS: readonly InvalidExperiment[] = [
  {
    title: 'a weight above 100',
    spec: { traffic: { weights: { stable: 120, canary: -20 } } },
    field: 'spec.traffic.weights.stable',
    message: 'Too big',
    serverMessage: 'less than or equal to 100',
  },
  {
    title: 'weights that do not add up to 100',
    spec: { traffic: { weights: { stable: 80, canary: 10 } } },
    field: 'spec.traffic.weights',
    message: 'must add up to 100',
  },
  {
    title: 'a canary weight left alone while the stable weight changes',
    spec: { traffic: { weights: { stable: 50 } } },
    field: 'spec.traffic.weights',
    message: 'must add up to 100',
  },
  {
    title: 'a mirror percentage above 100',
    spec: { mode: 'shadow', traffic: { mirrorPercent: 100.5 } },
    field: 'spec.traffic.mirrorPercent',
    message: 'Too big',
    serverMessage: 'less than or equal to 100',
  },
  {
    title: 'a negative mirror percentage',
    spec: { traffic: { mirrorPercent: -1 } },
    field: 'spec.traffic.mirrorPercent',
    message: 'Too small',
    serverMessage: 'greater than or equal to 0',
  },
  {
    title: 'a TTL that is not a duration',
    spec: { traffic: { stickySession: { ttl: 'one hour' } } },
    field: 'spec.traffic.stickySession.ttl',
    message: 'ttl must be a duration',
  },
  {
    title: 'a TTL without a unit',
    spec: { traffic: { stickySession: { ttl: '3600' } } },
    field: 'spec.traffic.stickySession.ttl',
    message: 'ttl must be a duration',
  },
  {
    title: 'a zero TTL',
    spec: { traffic: { stickySession: { ttl: '0s' } } },
    field: 'spec.traffic.stickySession.ttl',
    message: 'from 1s',
  },
  {
    title: 'a cookie name with a space and a semicolon',
    spec: { traffic: { stickySession: { cookie: 'sms version;' } } },
    field: 'spec.traffic.stickySession.cookie',
    message: 'cookie must be a cookie name',
  },
  {
    title: 'an empty image',
    spec: { app: { canary: { image: '' } } },
    field: 'spec.app.canary.image',
    message: 'image must be a container image reference',
  },
  {
    title: 'negative replicas',
    spec: { model: { stable: { replicas: -1 } } },
    field: 'spec.model.stable.replicas',
    message: 'Too small',
    serverMessage: 'greater than or equal to 0',
  },
  {
    title: 'canary weight for a canary scaled to zero',
    spec: { app: { canary: { replicas: 0 } } },
    field: 'spec.traffic.weights.canary',
    message: 'traffic.weights.canary is above 0 while app.canary.replicas or model.canary.replicas is 0',
  },
  {
    title: 'canary weight for a canary whose paired model is scaled to zero',
    spec: { model: { canary: { replicas: 0 } }, traffic: { weights: { stable: 50, canary: 50 } } },
    field: 'spec.traffic.weights.canary',
    message: 'no pod to answer them',
  },
  {
    title: 'stable weight for a stable app scaled to zero',
    spec: { app: { stable: { replicas: 0 } } },
    field: 'spec.app.stable.replicas',
    message: 'app.stable.replicas or model.stable.replicas is 0 while the stable version gets traffic',
  },
  {
    title: 'shadow mode with the stable model scaled to zero',
    spec: { mode: 'shadow', model: { stable: { replicas: 0 } } },
    field: 'spec.app.stable.replicas',
    message: 'while the stable version gets traffic',
  },
  {
    title: 'a mirror share for a shadow scaled to zero',
    spec: { mode: 'shadow', model: { shadow: { replicas: 0 } }, traffic: { mirrorPercent: 2.5 } },
    field: 'spec.traffic.mirrorPercent',
    message: 'traffic.mirrorPercent is above 0 while model.shadow.replicas is 0',
  },
  {
    title: 'a pod annotation the operator owns',
    spec: { app: { canary: { podAnnotations: { 'experiments.sms-app.io/config-hash': 'x' } } } },
    field: 'spec.app.canary.podAnnotations',
    message: 'podAnnotations may not set keys under experiments.sms-app.io/',
  },
  {
    title: 'a monitoring label the operator owns',
    spec: { monitoring: { labels: { 'experiments.sms-app.io/experiment': 'other' } } },
    field: 'spec.monitoring.labels',
    message: 'monitoring.labels keys must be label keys',
  },
  {
    title: 'a monitoring label value with a space',
    spec: { monitoring: { labels: { release: 'kube prometheus' } } },
    field: 'spec.monitoring.labels',
    message: 'monitoring.labels values must be label values',
  },
  {
    title: 'a monitoring annotation key that is no label key',
    spec: { monitoring: { annotations: { 'runbook url': 'https://example.com' } } },
    field: 'spec.monitoring.annotations',
    message: 'monitoring.annotations keys must be label keys',
  },
  {
    title: 'a dashboard label under app.kubernetes.io/',
    spec: { monitoring: { dashboardLabel: { key: 'app.kubernetes.io/component', value: 'dashboard' } } },
    field: 'spec.monitoring.dashboardLabel.key',
    message: 'dashboardLabel.key must be a label key',
  },
  {
    title: 'a slow-request threshold that is no bucket bound',
    spec: { analysis: { slowRequestSeconds: 0.3 } },
    field: 'spec.analysis.slowRequestSeconds',
    message: "slowRequestSeconds must be one of the app's latency bucket bounds",
  },
  {
    title: 'an alpha of zero',
    spec: { analysis: { alpha: 0 } },
    field: 'spec.analysis.alpha',
    message: 'Too small',
    serverMessage: 'greater than 0',
  },
  {
    title: 'an alpha above 0.5',
    spec: { analysis: { alpha: 0.6 } },
    field: 'spec.analysis.alpha',
    message: 'Too big',
    serverMessage: 'less than or equal to 0.5',
  },
  {
    title: 'progression steps that do not increase',
    spec: { analysis: { progression: { steps: [10, 5, 50] } } },
    field: 'spec.analysis.progression.steps',
    message: 'steps must be strictly increasing',
  },
  {
    title: 'a progression step repeated',
    spec: { analysis: { progression: { steps: [10, 10, 50] } } },
    field: 'spec.analysis.progression.steps',
    message: 'steps must be strictly increasing',
  },
  {
    title: 'a progression step over 100',
    spec: { analysis: { progression: { steps: [10, 50, 120] } } },
    field: 'spec.analysis.progression.steps[2]',
    message: 'Too big',
    serverMessage: 'less than or equal to 100',
  },
  {
    title: 'a negative gate margin',
    spec: { analysis: { progression: { gates: [{ signal: 'errors', margin: -0.1 }] } } },
    field: 'spec.analysis.progression.gates[0].margin',
    message: 'Too small',
    serverMessage: 'greater than or equal to 0',
  },
  {
    title: 'zero minimum canary requests',
    spec: { analysis: { progression: { minCanaryRequests: 0 } } },
    field: 'spec.analysis.progression.minCanaryRequests',
    message: 'Too small',
    serverMessage: 'greater than or equal to 1',
  },
  {
    title: 'a gate on an unknown signal',
    spec: { analysis: { progression: { gates: [{ signal: 'latency' }] } } },
    field: 'spec.analysis.progression.gates[0].signal',
    message: 'Invalid option',
    serverMessage: 'Unsupported value: "latency"',
  },
  {
    title: 'a signal gated twice',
    spec: { analysis: { progression: { gates: [{ signal: 'errors' }, { signal: 'errors', margin: 1 }] } } },
    field: 'spec.analysis.progression.gates',
    message: 'gates may name each signal once',
  },
  {
    title: 'a step duration without a unit',
    spec: { analysis: { progression: { maxStepDuration: '600' } } },
    field: 'spec.analysis.progression.maxStepDuration',
    message: 'must be a duration from 10s to 24h',
  },
  {
    title: 'fromShadow in canary mode',
    spec: { analysis: { progression: { fromShadow: {} } } },
    field: 'spec.analysis.progression',
    message: 'analysis.progression.fromShadow goes with mode: shadow',
  },
  {
    title: 'a progression in shadow mode without fromShadow',
    spec: { mode: 'shadow', analysis: { progression: {} } },
    field: 'spec.analysis.progression',
    message: 'analysis.progression.fromShadow goes with mode: shadow',
  },
  {
    title: 'a shadow agreement bar of zero',
    spec: { mode: 'shadow', analysis: { progression: { fromShadow: { minAgreement: 0 } } } },
    field: 'spec.analysis.progression.fromShadow.minAgreement',
    message: 'Too small',
    serverMessage: 'greater than 0',
  },
  {
    title: 'a toleration without a key whose operator is not Exists',
    spec: { model: { canary: { tolerations: [{ operator: 'Equal', value: 'ml' }] } } },
    field: 'spec.model.canary.tolerations[0].operator',
    message: 'a toleration without a key must have operator Exists',
  },
  {
    title: 'a memory limit below the request',
    spec: { app: { stable: { resources: { requests: { memory: '512Mi' }, limits: { memory: '256Mi' } } } } },
    field: 'spec.app.stable.resources.limits.memory',
    message: 'resources.limits.memory may not be below resources.requests.memory',
  },
  {
    title: 'a CPU quantity that is no quantity',
    spec: { app: { canary: { resources: { requests: { cpu: 'two' } } } } },
    field: 'spec.app.canary.resources.requests.cpu',
    message: 'must be a Kubernetes quantity',
  },
  {
    title: 'a pod label the operator owns',
    spec: { model: { stable: { podLabels: { version: 'mine' } } } },
    field: 'spec.model.stable.podLabels',
    message: 'podLabels may not set app, version',
  },
  {
    title: 'a TLS gateway without a credential',
    spec: { istio: { tls: { httpsRedirect: true } } },
    field: 'spec.istio.tls.credentialName',
    message: 'Invalid input',
    serverMessage: 'Required value',
  },
  {
    title: 'TLS on a shared gateway',
    spec: { istio: { tls: { credentialName: 'cert' }, gateway: { name: 'public' } } },
    field: 'spec.istio.tls',
    message: 'istio.tls and istio.gateway exclude each other',
  },
  {
    title: 'a progress deadline of zero',
    spec: { progressDeadlineSeconds: 0 },
    field: 'spec.progressDeadlineSeconds',
    message: 'Too small',
    serverMessage: 'greater than or equal to 5',
  },
  {
    title: 'an absurd number of replicas',
    spec: { app: { stable: { replicas: 1000 } } },
    field: 'spec.app.stable.replicas',
    message: 'Too big',
    serverMessage: 'less than or equal to 50',
  },
  {
    title: 'the same app version for stable and canary',
    spec: { app: { canary: { version: 'v1' } } },
    field: 'spec.app.canary.version',
    message: 'must differ from app.stable.version',
  },
  {
    title: 'the same model version for stable and shadow',
    spec: { mode: 'shadow', model: { shadow: { version: 'v1' } } },
    field: 'spec.model',
    message: 'must all differ',
  },
  {
    title: 'a version label that is not a DNS label',
    spec: { app: { stable: { version: 'V1.0' } } },
    field: 'spec.app.stable.version',
    message: 'version must be a DNS-1123 label',
  },
  {
    title: 'an artifact that is not a label value',
    spec: { model: { canary: { artifact: 'models/v2' } } },
    field: 'spec.model.canary.artifact',
    message: 'artifact must be a label value',
  },
  {
    title: 'the same host for the experiment and the canary',
    spec: { istio: { hosts: { canary: 'sms-app.local' } } },
    field: 'spec.istio.hosts',
    message: 'must be three different hosts',
  },
  {
    title: 'a host that is not a DNS name',
    spec: { istio: { hosts: { stable: 'Stable_Host:80' } } },
    field: 'spec.istio.hosts.stable',
    message: 'DNS-1123 subdomain',
  },
  {
    title: 'an ingress host that is also an Istio host',
    spec: { ingress: { host: 'stable.sms-app.local' } },
    field: 'spec.ingress.host',
    message: 'ingress.host must differ from the istio.hosts',
  },
  {
    title: 'an empty gateway selector',
    spec: { istio: { gatewaySelector: {} } },
    field: 'spec.istio.gatewaySelector',
    message: 'at least one label',
  },
  {
    title: 'a gateway selector with 17 labels',
    spec: { istio: { gatewaySelector: Object.fromEntries(Array.from({ length: 17 }, (_, index) => [`label-${index}`, 'x'])) } },
    field: 'spec.istio.gatewaySelector',
    message: 'at most 16',
  },
  {
    title: 'a port above 65535',
    spec: { model: { port: 70000 } },
    field: 'spec.model.port',
    message: 'Too big',
    serverMessage: 'less than or equal to 65535',
  },
  {
    title: 'port 0',
    spec: { app: { port: 0 } },
    field: 'spec.app.port',
    message: 'Too small',
    serverMessage: 'greater than or equal to 1',
  },
  {
    title: 'an unknown mode',
    spec: { mode: 'bluegreen' },
    field: 'spec.mode',
    message: 'Invalid option',
    serverMessage: 'supported values: "canary", "shadow"',
  },
  {
    title: 'both a hostPath and a persistentVolumeClaim',
    spec: { storage: { hostPath: '/mnt/models', persistentVolumeClaim: 'models' } },
    field: 'spec.storage',
    message: 'exactly one of storage.hostPath or storage.persistentVolumeClaim',
  },
  {
    title: 'no storage at all',
    spec: { storage: {} },
    field: 'spec.storage',
    message: 'exactly one of storage.hostPath or storage.persistentVolumeClaim',
  },
  {
    title: 'a relative hostPath',
    spec: { storage: { hostPath: 'mnt/models' } },
    field: 'spec.storage.hostPath',
    message: 'hostPath must be an absolute path',
  },
  {
    title: 'a persistentVolumeClaim that is not a DNS name',
    spec: { storage: { persistentVolumeClaim: 'Model_Claim' } },
    field: 'spec.storage.persistentVolumeClaim',
    message: 'DNS-1123 subdomain',
  },
  {
    title: 'an alert recipient that is not an e-mail address',
    spec: { monitoring: { email: { ...email, to: 'oncall' } } },
    field: 'spec.monitoring.email.to',
    message: 'to must be one or more e-mail addresses',
  },
  {
    title: 'a smarthost without a port',
    spec: { monitoring: { email: { ...email, smarthost: 'smtp.example.com' } } },
    field: 'spec.monitoring.email.smarthost',
    message: 'smarthost must be host:port',
  },
  {
    title: 'e-mail alerting without a sender',
    spec: { monitoring: { email: { to: email.to, smarthost: email.smarthost } } },
    field: 'spec.monitoring.email.from',
    message: 'expected string',
    serverMessage: 'Required value',
  },
  {
    title: 'an alert threshold of zero',
    spec: { monitoring: { highRequestRate: { perMinute: 0 } } },
    field: 'spec.monitoring.highRequestRate.perMinute',
    message: 'Too small',
    serverMessage: 'greater than 0',
  },
  {
    title: "an alert 'for' that is not a Prometheus duration",
    spec: { monitoring: { highRequestRate: { for: '2 minutes' } } },
    field: 'spec.monitoring.highRequestRate.for',
    message: 'for must be a Prometheus duration',
  },
  {
    title: 'a name that cannot prefix a Service name',
    name: 'canary.v2',
    spec: {},
    field: 'metadata.name',
    message: 'metadata.name must be at most 40 characters',
  },
  {
    title: 'a misspelt field',
    spec: { trafic: { weights: { stable: 50, canary: 50 } } },
    field: 'spec.trafic',
    message: '',
    serverMessage: 'unknown field',
    serverOnly: 'the API server rejects unknown fields (strict field validation); zod strips them, as the API server prunes them from stored objects',
  },
];

export interface ValidExperiment {
  title: string;
  name?: string;
  spec: Record<string, unknown>;
}

/** Edge cases both validators must accept: the boundaries of the rules above. */
export const VALID_EXPERIMENTS: readonly ValidExperiment[] = [
  { title: 'an empty spec', spec: {} },
  { title: 'all traffic on the canary', spec: { traffic: { weights: { stable: 0, canary: 100 } } } },
  { title: 'a decimal mirror percentage', spec: { mode: 'shadow', traffic: { mirrorPercent: 2.5 } } },
  { title: 'mirroring switched off', spec: { mode: 'shadow', traffic: { mirrorPercent: 0 } } },
  { title: 'a TTL in hours and minutes', spec: { traffic: { stickySession: { ttl: '1h30m' } } } },
  { title: 'a TTL in minutes', spec: { traffic: { stickySession: { ttl: '90m' } } } },
  { title: 'a TTL of 400 days', spec: { traffic: { stickySession: { ttl: '9600h' } } } },
  { title: 'a cookie name with token characters', spec: { traffic: { stickySession: { cookie: 'exp.version_2' } } } },
  { title: 'storage on a PersistentVolumeClaim', spec: { storage: { persistentVolumeClaim: 'model-artifacts' } } },
  { title: 'a canary scaled to zero with no weight', spec: { app: { canary: { replicas: 0 } }, model: { canary: { replicas: 0 } }, traffic: { weights: { stable: 100, canary: 0 } } } },
  { title: 'a stable scaled to zero with every user on the canary', spec: { app: { stable: { replicas: 0 } }, traffic: { weights: { stable: 0, canary: 100 } } } },
  { title: 'a shadow scaled to zero with mirroring off', spec: { mode: 'shadow', model: { shadow: { replicas: 0 } }, traffic: { mirrorPercent: 0 } } },
  { title: 'annotations on the canary pods', spec: { app: { canary: { podAnnotations: { 'sidecar.istio.io/proxyCPU': '100m' } } } } },
  { title: 'the ingress disabled, reusing an Istio host name', spec: { ingress: { enabled: false, host: 'sms-app.local' } } },
  {
    title: 'e-mail alerting to two recipients through an IPv6 smarthost',
    spec: { monitoring: { email: { ...email, to: 'a@example.com, b@example.com', smarthost: '[fd00::25]:25', username: 'alerts' } } },
  },
  {
    title: 'the labels a stock kube-prometheus-stack selects by, and a dashboard label with an empty value',
    spec: { monitoring: { labels: { release: 'kube-prometheus-stack', 'example.com/team': 'sms' }, annotations: { 'example.com/runbook': 'https://runbooks.example.com/sms?a=1, b' }, dashboardLabel: { key: 'grafana_dashboard', value: '' } } },
  },
  { title: 'an immediate alert', spec: { monitoring: { highRequestRate: { perMinute: 0.5, for: '0' } } } },
  { title: 'a selector with two labels', spec: { istio: { gatewaySelector: { istio: 'ingressgateway', 'app.kubernetes.io/name': 'gw' } } } },
  { title: 'a 40-character name', name: 'a'.repeat(40), spec: {} },
  {
    title: 'workload settings: resources, placement, pull secrets, labels, an autoscaled canary',
    spec: {
      app: { canary: { autoscaled: true, resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '1.5', memory: '1Gi' } } } },
      model: { stable: { replicas: 2, nodeSelector: { 'kubernetes.io/arch': 'amd64' }, tolerations: [{ operator: 'Exists' }, { key: 'dedicated', value: 'ml', effect: 'NoExecute', tolerationSeconds: 60 }], imagePullSecrets: ['registry'], podLabels: { team: 'ml' }, affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }] } } } } },
    },
  },
  { title: 'TLS at the gateway', spec: { istio: { tls: { credentialName: 'sms-app-tls', httpsRedirect: false } } } },
  { title: 'a shared gateway in another namespace', spec: { istio: { gateway: { name: 'public', namespace: 'istio-ingress' } } } },
  { title: 'a progression with the default steps', spec: { analysis: { progression: {} } } },
  {
    title: 'a progression that gates on guesses and advances at the step bound',
    spec: { analysis: { alpha: 0.1, progression: { steps: [20, 60], minCanaryRequests: 50, maxStepDuration: '2m', onMaxDuration: 'advance', gates: [{ signal: 'guesses', margin: 0, negligibleRate: 0 }] } } },
  },
  { title: 'a shadow model taken to release', spec: { mode: 'shadow', analysis: { progression: { fromShadow: { minAgreement: 0.9, rejectLeans: ['shadow-flags-more-spam'] } } } } },
];

/** The SmsExperiment object of a case. */
export function experimentObject(
  { name, spec }: { name?: string | undefined; spec: Record<string, unknown> },
  namespace?: string,
): Record<string, unknown> {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name: name ?? 'experiment', ...(namespace === undefined ? {} : { namespace }) },
    spec,
  };
}
