// The SmsExperiment resource: this zod schema is the single source of truth.
// TypeScript types are inferred from it and config/crd/ is generated from it (npm run generate).
// Defaults live here so that the generated CRD carries them and the API server applies them.
// Each description is what `kubectl explain smsexperiment.spec...` prints; each rule given to
// described() is enforced twice, as CEL by the API server and as a zod refinement by the operator.
import { z } from 'zod';
import {
  COOKIE_NAME,
  DNS1123_LABEL,
  DNS1123_SUBDOMAIN,
  DNS1123_SUBDOMAIN_MAX_LENGTH,
  EMAIL_ADDRESS,
  EMAIL_ADDRESS_LIST,
  EXPERIMENT_NAME,
  EXPERIMENT_NAME_MAX_LENGTH,
  GO_DURATION,
  IMAGE,
  LABEL_VALUE,
  LABEL_VALUE_MAX_LENGTH,
  OPTIONAL_LABEL_VALUE,
  PARENT_SEGMENT,
  PROMETHEUS_DURATION,
  QUANTITY,
  quantityValue,
  QUALIFIED_NAME,
  QUALIFIED_NAME_MAX_LENGTH,
  RESERVED_KEY_PREFIXES,
  SECRET_KEY,
  SMARTHOST,
  VERSION_MAX_LENGTH,
  celString,
  durationSeconds,
  labelValueProblem,
  metadataKeyProblem,
} from './formats.ts';
import { described, matches, whenPresent, type ValidationRule } from './rules.ts';

export const GROUP = 'experiments.sms-app.io';
export const VERSION = 'v1alpha1';
export const KIND = 'SmsExperiment';
export const PLURAL = 'smsexperiments';
export const SINGULAR = 'smsexperiment';
export const SHORT_NAMES = ['smsx'];
export const API_VERSION = `${GROUP}/${VERSION}`;

export const DEFAULT_APP_IMAGE = 'ghcr.io/sms-experiment/app:0.1.0';
export const DEFAULT_MODEL_IMAGE = 'ghcr.io/sms-experiment/model:0.1.0';

/** Upper bound on replicas: catches a typo such as 100 for 10 before it schedules a fleet. */
export const MAX_REPLICAS = 50;
/** Browsers cap a cookie's Max-Age at 400 days; a longer TTL would only pretend to work. */
export const MAX_STICKY_TTL = '9600h';
const MAX_STICKY_TTL_SECONDS = 9600 * 3600;
const MAX_STRING_LENGTH = 512;
const MAX_SELECTOR_LABELS = 16;

// Field builders shared by several fields. Each is a function so that every field gets its own
// schema instance and therefore its own description.

const dnsName = (description: string) =>
  described(z.string().max(DNS1123_SUBDOMAIN_MAX_LENGTH), description, [
    matches(DNS1123_SUBDOMAIN, "must be a DNS-1123 subdomain name: lowercase letters, digits, '-' and '.', e.g. sms-app.local"),
  ]);

const image = (role: string, defaultImage: string) =>
  described(z.string().max(MAX_STRING_LENGTH), `Container image of the ${role}. Default ${defaultImage}.`, [
    matches(IMAGE, "image must be a container image reference such as ghcr.io/org/app:1.0: letters, digits and '.', '_', '-', '/', ':', '@', not empty"),
  ]).default(defaultImage);

const replicas = (deployment: string) =>
  described(
    z.number().int().min(0).max(MAX_REPLICAS),
    `Pods of the ${deployment}, 0 to ${MAX_REPLICAS}; 0 scales it to zero. Default 1.`,
  ).default(1);

const versionLabel = (role: string, version: string, usedBy: string) =>
  described(
    z.string().max(VERSION_MAX_LENGTH),
    `Value of the \`version\` label on the ${role} pods, and the name of its Istio subset (${usedBy}). ` +
      `A DNS-1123 label of at most ${VERSION_MAX_LENGTH} characters. Default ${version}.`,
    [matches(DNS1123_LABEL, `version must be a DNS-1123 label: lowercase letters, digits and '-', e.g. v2 (it names an Istio subset)`)],
  ).default(version);

/** Annotation keys the operator sets on pods itself; a user value would be overwritten, so it is refused. */
export const RESERVED_POD_ANNOTATION_PREFIX = 'experiments.sms-app.io/';
const MAX_POD_ANNOTATIONS = 32;

const podAnnotations = (role: string) =>
  described(
    // maxProperties (below) bounds the CEL cost of the key rule; the API server reports the count itself.
    z
      .record(z.string().max(DNS1123_SUBDOMAIN_MAX_LENGTH + 64), z.string().max(4096))
      .refine((annotations) => Object.keys(annotations).length <= MAX_POD_ANNOTATIONS, `podAnnotations may have at most ${MAX_POD_ANNOTATIONS} entries`),
    `Extra annotations on the ${role} pods (e.g. for Istio or a log shipper), at most ${MAX_POD_ANNOTATIONS}. ` +
      `Keys under ${RESERVED_POD_ANNOTATION_PREFIX} are the operator's own and refused. Default none.`,
    [
      {
        rule: `self.all(key, !key.startsWith('${RESERVED_POD_ANNOTATION_PREFIX}'))`,
        message: `podAnnotations may not set keys under ${RESERVED_POD_ANNOTATION_PREFIX}: the operator sets those itself`,
        holds: (annotations: Record<string, string>) => Object.keys(annotations).every((key) => !key.startsWith(RESERVED_POD_ANNOTATION_PREFIX)),
      },
    ],
    { maxProperties: MAX_POD_ANNOTATIONS },
  ).optional();

// ---- workload settings of one version: resources, placement, pull secrets, labels, autoscaling ----

const MAX_MAP_ENTRIES = 32;
const MAX_TOLERATIONS = 16;
const MAX_PULL_SECRETS = 8;
/** Label keys the operator sets on pods itself (selectors, subsets, Istio, the recommended labels). */
export const RESERVED_POD_LABELS = ['app', 'version', 'sidecar.istio.io/inject'];
const RESERVED_LABEL_PREFIXES = ['app.kubernetes.io/', 'experiments.sms-app.io/'];

const quantity = (what: string) =>
  described(z.string().max(64), `${what}, a Kubernetes quantity (e.g. 250m, 1, 512Mi).`, [matches(QUANTITY, 'must be a Kubernetes quantity, e.g. 250m, 1 or 512Mi')]).optional();
const resourceList = (what: string) =>
  described(z.object({ cpu: quantity(`CPU ${what}`), memory: quantity(`Memory ${what}`) }), `The container's ${what}.`).optional();

type Resources = { requests?: { cpu?: string | undefined; memory?: string | undefined } | undefined; limits?: { cpu?: string | undefined; memory?: string | undefined } | undefined };
const notBelow = (resource: 'cpu' | 'memory') => (resources: Resources) => {
  const limit = resources.limits?.[resource];
  const request = resources.requests?.[resource];
  if (limit === undefined || request === undefined) return true;
  const [l, r] = [quantityValue(limit), quantityValue(request)];
  return l === undefined || r === undefined || l >= r;
};
const resourcesField = (role: string) =>
  described(
    z.object({ requests: resourceList('requests'), limits: resourceList('limits') }),
    `CPU and memory of the ${role} container. Given, it replaces the defaults whole (requests 100m CPU and 256Mi; limits 1 CPU and 512Mi for the app, 1Gi for the model); limits may not be below requests.`,
    (['cpu', 'memory'] as const).map((resource) => ({
      rule: `!has(self.limits) || !has(self.requests) || !has(self.limits.${resource}) || !has(self.requests.${resource}) || quantity(self.limits.${resource}).compareTo(quantity(self.requests.${resource})) >= 0`,
      message: `resources.limits.${resource} may not be below resources.requests.${resource}`,
      fieldPath: `.limits.${resource}`,
      holds: notBelow(resource),
    })),
  ).optional();

const tolerationSchema = described(
  z.object({
    key: described(z.string().max(DNS1123_SUBDOMAIN_MAX_LENGTH + 64), 'The taint key; empty (with operator Exists) tolerates every taint.').optional(),
    operator: described(z.enum(['Exists', 'Equal']), 'Exists or Equal. Default Equal.').optional(),
    value: described(z.string().max(LABEL_VALUE_MAX_LENGTH), 'The taint value (operator Equal).').optional(),
    effect: described(z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']), 'The taint effect; empty matches all.').optional(),
    tolerationSeconds: described(z.number().int().min(0), 'How long a NoExecute taint is tolerated.').optional(),
  }),
  'A Kubernetes toleration of the pods.',
  [
    {
      rule: "(has(self.key) && self.key != '') || (has(self.operator) && self.operator == 'Exists')",
      message: 'a toleration without a key must have operator Exists (it then tolerates every taint)',
      fieldPath: '.operator',
      holds: (toleration) => (toleration.key ?? '') !== '' || toleration.operator === 'Exists',
    },
    {
      rule: "!has(self.operator) || self.operator != 'Exists' || !has(self.value) || self.value == ''",
      message: 'a toleration with operator Exists may not have a value',
      fieldPath: '.value',
      holds: (toleration) => toleration.operator !== 'Exists' || (toleration.value ?? '') === '',
    },
    {
      rule: "!has(self.tolerationSeconds) || (has(self.effect) && self.effect == 'NoExecute')",
      message: 'tolerationSeconds needs effect NoExecute',
      fieldPath: '.tolerationSeconds',
      holds: (toleration) => toleration.tolerationSeconds === undefined || toleration.effect === 'NoExecute',
    },
  ],
);

const stringMap = (description: string, rules: readonly ValidationRule<Record<string, string>>[] = []) =>
  described(
    z.record(z.string().max(DNS1123_SUBDOMAIN_MAX_LENGTH + 64), z.string().max(LABEL_VALUE_MAX_LENGTH)).refine((map) => Object.keys(map).length <= MAX_MAP_ENTRIES, `may have at most ${MAX_MAP_ENTRIES} entries`),
    description,
    rules,
    { maxProperties: MAX_MAP_ENTRIES },
  ).optional();

const workloadFields = (role: string) => ({
  resources: resourcesField(role),
  nodeSelector: stringMap(`Node labels the ${role} pods must run on (pod spec.nodeSelector). Default none.`),
  tolerations: described(z.array(tolerationSchema).max(MAX_TOLERATIONS), `Taints the ${role} pods tolerate, at most ${MAX_TOLERATIONS}. Default none.`, [], { 'x-kubernetes-list-type': 'atomic' }).optional(),
  affinity: described(z.looseObject({}), `The ${role} pods' affinity (a Kubernetes Affinity: nodeAffinity, podAffinity, podAntiAffinity), passed through. Default none.`).optional(),
  imagePullSecrets: described(
    z.array(z.string().max(DNS1123_SUBDOMAIN_MAX_LENGTH)).max(MAX_PULL_SECRETS),
    `Secrets (in the experiment namespace) to pull the ${role} image with, at most ${MAX_PULL_SECRETS}. Default none.`,
    [
      {
        rule: `self.all(name, name.matches(${celString(DNS1123_SUBDOMAIN)}))`,
        message: 'imagePullSecrets must be Secret names (DNS-1123 subdomains)',
        holds: (names: string[]) => names.every((name) => new RegExp(DNS1123_SUBDOMAIN).test(name)),
      },
    ],
    { 'x-kubernetes-list-type': 'set' },
  ).optional(),
  podLabels: stringMap(`Extra labels on the ${role} pods. The operator's own (app, version, sidecar.istio.io/inject, app.kubernetes.io/*, experiments.sms-app.io/*) are refused. Default none.`, [
    {
      rule: `self.all(key, !(key in [${RESERVED_POD_LABELS.map(celString).join(', ')}]) && ${RESERVED_LABEL_PREFIXES.map((prefix) => `!key.startsWith(${celString(prefix)})`).join(' && ')})`,
      message: `podLabels may not set ${RESERVED_POD_LABELS.join(', ')} or keys under ${RESERVED_LABEL_PREFIXES.join(' or ')}: the operator sets those itself`,
      holds: (labels: Record<string, string>) => Object.keys(labels).every((key) => !RESERVED_POD_LABELS.includes(key) && RESERVED_LABEL_PREFIXES.every((prefix) => !key.startsWith(prefix))),
    },
  ]),
  autoscaled: described(
    z.boolean(),
    `Leave the ${role} Deployment's replicas to a HorizontalPodAutoscaler: the operator then does not set spec.replicas (the Deployment starts with 1). Default false.`,
  ).optional(),
});

const port = (description: string, defaultPort: number) =>
  described(z.number().int().min(1).max(65535), `${description} 1 to 65535. Default ${defaultPort}.`).default(defaultPort);

const appVersion = (version: string) => {
  const role = version === 'v1' ? 'stable app' : 'canary app';
  return z.object({
    image: image(`${role} (Node.js web page and API in front of the model service)`, DEFAULT_APP_IMAGE),
    replicas: replicas(`${role} Deployment`),
    version: versionLabel(role, version, 'the app DestinationRule, the sticky cookie value, paired routing to the model'),
    podAnnotations: podAnnotations(role),
    ...workloadFields(role),
  });
};

const modelVersion = (version: string, artifact: string) => {
  const role = version === 'shadow' ? 'shadow model' : version === 'v1' ? 'stable model' : 'canary model';
  return z.object({
    image: image(`${role} service (TypeScript naive-Bayes spam classifier)`, DEFAULT_MODEL_IMAGE),
    replicas: replicas(`${role} Deployment`),
    version: versionLabel(role, version, 'the model DestinationRule and VirtualService'),
    artifact: described(
      z.string().max(LABEL_VALUE_MAX_LENGTH),
      `Model artifact version the ${role} loads from the model storage (a label value). Default ${artifact}.`,
      [matches(LABEL_VALUE, "artifact must be a label value: letters, digits, '-', '_' and '.', starting and ending with a letter or digit")],
    ).default(artifact),
    podAnnotations: podAnnotations(role),
    ...workloadFields(role),
  });
};

export const appSpecSchema = described(
  z.object({
    port: port('Container port the app listens on (APP_SERVER_PORT); the app Service exposes it on port 80.', 8080),
    stable: described(appVersion('v1'), 'The stable app version (v1): serves the stable host, the NGINX ingress and the stable share of the experiment host.').prefault({}),
    canary: described(appVersion('v2'), 'The canary app version (v2): serves the canary host and the canary share of the experiment host. Deployed in canary mode only.').prefault({}),
  }),
  'The app (Node.js, Hono) that serves the web page and API and calls the model service.',
  [
    {
      rule: whenPresent(['stable', 'canary'], 'self.stable.version != self.canary.version'),
      message: 'app.canary.version must differ from app.stable.version: the version label is what tells stable and canary pods apart',
      fieldPath: '.canary.version',
      holds: (app) => app.stable.version !== app.canary.version,
    },
  ],
);

export const modelSpecSchema = described(
  z.object({
    port: port('Container port the model service listens on (/predict); its Services expose it and MODEL_HOST points at it.', 8081),
    stable: described(modelVersion('v1', 'v1'), 'The stable model version (v1): answers every call from the stable app.').prefault({}),
    canary: described(modelVersion('v2', 'v2'), 'The canary model version (v2), paired with the canary app: calls from canary app pods go to it. Deployed in canary mode only.').prefault({}),
    shadow: described(modelVersion('shadow', 'v2'), 'The shadow model: receives a mirrored copy of traffic.mirrorPercent of the model calls, its answers are discarded (SHADOW_MODE=true). Deployed in shadow mode only.').prefault({}),
  }),
  'The model service (a TypeScript naive-Bayes classifier) that classifies SMS messages.',
  [
    {
      rule: whenPresent(
        ['stable', 'canary', 'shadow'],
        'self.stable.version != self.canary.version && self.stable.version != self.shadow.version && self.canary.version != self.shadow.version',
      ),
      message: 'model.stable.version, model.canary.version and model.shadow.version must all differ: each one is a separate Istio subset',
      holds: (model) => new Set([model.stable.version, model.canary.version, model.shadow.version]).size === 3,
    },
  ],
);

const weight = (role: string, defaultWeight: number) =>
  described(
    z.number().int().min(0).max(100),
    `Percentage of new experiment-host sessions routed to the ${role} app, 0 to 100. Default ${defaultWeight}.`,
  ).default(defaultWeight);

const stickyTtlRule = {
  rule: `self.matches(${celString(GO_DURATION)}) && duration(self) >= duration('1s') && duration(self) <= duration(${celString(MAX_STICKY_TTL)})`,
  message: `ttl must be a duration from 1s to ${MAX_STICKY_TTL} (400 days) written with h, m, s or ms, e.g. 3600s, 1h or 90m`,
  holds: (ttl: string) => {
    const seconds = durationSeconds(ttl);
    return seconds !== undefined && seconds >= 1 && seconds <= MAX_STICKY_TTL_SECONDS;
  },
};

export const trafficSpecSchema = described(
  z.object({
    weights: described(
      z.object({
        stable: weight('stable', 90),
        canary: weight('canary', 10),
      }),
      'Split of the experiment host between the app versions, in the app VirtualService (canary mode). The two must add up to 100. Default 90/10.',
      [
        {
          rule: whenPresent(['stable', 'canary'], 'self.stable + self.canary == 100'),
          message: 'traffic.weights.stable and traffic.weights.canary must add up to 100',
          holds: (weights) => weights.stable + weights.canary === 100,
        },
      ],
    ).prefault({}),
    stickySession: described(
      z.object({
        cookie: described(
          z.string().max(64),
          'Name of the cookie that keeps a user on one app version: its value is the version label, matched by the app VirtualService and set on each weighted response. Default sms-app-version.',
          [matches(COOKIE_NAME, "cookie must be a cookie name: letters, digits and !#$%&'*+-.^_`|~, no spaces, no '=' or ';'")],
        ).default('sms-app-version'),
        ttl: described(
          z.string().max(32),
          `How long a user stays on the version they were given (the cookie's Max-Age): a duration such as 3600s, 1h or 90m, from 1s to ${MAX_STICKY_TTL}. Default 3600s.`,
          [stickyTtlRule],
        ).default('3600s'),
      }),
      'Sticky sessions on the experiment host: a user keeps the app version of their first request for the TTL.',
    ).prefault({}),
    mirrorPercent: described(
      z.number().min(0).max(100),
      'Percentage of model calls mirrored to the shadow model (shadow mode), 0 to 100, decimals allowed (e.g. 2.5). Drives mirrorPercentage of the model VirtualService. Default 10.',
    ).default(10),
  }),
  'How user traffic is divided: canary weights and sticky sessions on the experiment host, and the shadow mirror percentage.',
);

const hostsRule = {
  rule: whenPresent(['experiment', 'stable', 'canary'], 'self.experiment != self.stable && self.experiment != self.canary && self.stable != self.canary'),
  message: 'istio.hosts.experiment, istio.hosts.stable and istio.hosts.canary must be three different hosts',
  holds: (hosts: { experiment: string; stable: string; canary: string }) => new Set([hosts.experiment, hosts.stable, hosts.canary]).size === 3,
};

export const istioSpecSchema = described(
  z.object({
    hosts: described(
      z.object({
        experiment: dnsName('Host whose traffic is split by traffic.weights, with sticky sessions. Default sms-app.local.').default('sms-app.local'),
        stable: dnsName('Host that always reaches the stable app version. Default stable.sms-app.local.').default('stable.sms-app.local'),
        canary: dnsName('Host that always reaches the canary app version (canary mode). Default canary.sms-app.local.').default('canary.sms-app.local'),
      }),
      'The three hosts of the Istio Gateway and app VirtualService; three different DNS names.',
      [hostsRule],
    ).prefault({}),
    gatewaySelector: described(
      // maxProperties (below) bounds the CEL cost of the value rule; the refinement is its zod twin.
      z
        .record(z.string(), z.string().max(LABEL_VALUE_MAX_LENGTH))
        .refine((selector) => Object.keys(selector).length <= MAX_SELECTOR_LABELS, `istio.gatewaySelector may have at most ${MAX_SELECTOR_LABELS} labels`),
      'Labels of the Istio ingress gateway pods the Gateway binds to (Gateway spec.selector). At least one label. Default istio: ingressgateway.',
      [
        {
          rule: 'self.size() > 0',
          message: 'istio.gatewaySelector must have at least one label, e.g. istio: ingressgateway',
          holds: (selector) => Object.keys(selector).length > 0,
        },
        {
          rule: `self.all(key, self[key].matches(${celString(OPTIONAL_LABEL_VALUE)}))`,
          message: "istio.gatewaySelector values must be label values: letters, digits, '-', '_' and '.', starting and ending with a letter or digit",
          holds: (selector) => Object.values(selector).every((value) => new RegExp(OPTIONAL_LABEL_VALUE).test(value)),
        },
      ],
      { maxProperties: MAX_SELECTOR_LABELS },
    ).default({ istio: 'ingressgateway' }),
    tls: described(
      z.object({
        credentialName: described(
          z.string().max(DNS1123_SUBDOMAIN_MAX_LENGTH),
          'Name of the Secret (in the ingress gateway\'s namespace) with the certificate and key for the three hosts: the Gateway\'s HTTPS server (port 443, tls.mode SIMPLE) reads it.',
          [matches(DNS1123_SUBDOMAIN, 'tls.credentialName must be a Secret name (a DNS-1123 subdomain)')],
        ),
        httpsRedirect: described(z.boolean(), 'Whether the HTTP server (port 80) answers with a redirect to HTTPS instead of serving. Default true.').default(true),
      }),
      'Terminate TLS at the rendered Gateway. Default none: HTTP on port 80 only.',
    ).optional(),
    gateway: described(
      z.object({
        name: dnsName('Name of an existing Istio Gateway the VirtualServices attach to.'),
        namespace: dnsName('Its namespace. Default: the experiment\'s.').optional(),
      }),
      'Attach to an existing, shared Gateway instead of rendering one: its servers (and TLS) are its owner\'s, the experiment only routes its hosts on it. Default none: the operator renders a Gateway of its own.',
    ).optional(),
  }),
  'The Istio entry point: Gateway hosts and the ingress gateway it binds to.',
  [
    {
      rule: '!has(self.tls) || !has(self.gateway)',
      message: 'istio.tls and istio.gateway exclude each other: TLS configures the Gateway the operator renders, while a shared Gateway (istio.gateway) terminates TLS on its own servers',
      fieldPath: '.tls',
      holds: (istio) => !(istio.tls !== undefined && istio.gateway !== undefined),
    },
  ],
);

export const ingressSpecSchema = described(
  z.object({
    enabled: described(z.boolean(), 'Whether to create the NGINX Ingress. Default true.').default(true),
    host: dnsName('Host of the NGINX Ingress; it must differ from the Istio hosts. Default sms-nginx.local.').default('sms-nginx.local'),
    className: dnsName('IngressClass of the NGINX Ingress (spec.ingressClassName). Default nginx.').default('nginx'),
  }),
  'The NGINX Ingress: a plain path to the stable app version, outside the experiment.',
);

export const emailAlertingSchema = described(
  z.object({
    to: described(z.string().max(MAX_STRING_LENGTH), 'Recipient address(es) of alert e-mails, comma-separated. Required.', [
      matches(EMAIL_ADDRESS_LIST, 'to must be one or more e-mail addresses separated by commas, e.g. oncall@example.com'),
    ]),
    from: described(z.string().max(MAX_STRING_LENGTH), 'Sender address of alert e-mails. Required.', [
      matches(EMAIL_ADDRESS, 'from must be one e-mail address, e.g. alerts@example.com'),
    ]),
    smarthost: described(z.string().max(MAX_STRING_LENGTH), 'SMTP server as host:port, e.g. smtp.gmail.com:587. Required.', [
      matches(SMARTHOST, 'smarthost must be host:port with a port from 1 to 65535, e.g. smtp.example.com:587'),
    ]),
    username: described(z.string().max(MAX_STRING_LENGTH), 'SMTP user name. Optional; defaults to the from address.').optional(),
    passwordSecretRef: described(
      z.object({
        name: dnsName('Name of the Secret, in the experiment namespace. Default smtp-credentials.').default('smtp-credentials'),
        key: described(z.string().max(DNS1123_SUBDOMAIN_MAX_LENGTH), 'Key in the Secret that holds the password. Default password.', [
          matches(SECRET_KEY, "key must be a Secret key: letters, digits, '-', '_' and '.'"),
        ]).default('password'),
      }),
      'The existing Secret that holds the SMTP password; the operator references it, never copies it.',
    ).prefault({}),
  }),
  'E-mail alerting through an AlertmanagerConfig. Absent means no e-mail.',
);

const MAX_MONITORING_LABELS = 16;
const MAX_MONITORING_ANNOTATIONS = 32;

/** CEL: a key the user may set (the twin of metadataKeyProblem). */
const celUserKey = (key: string) =>
  [`${key}.size() <= ${QUALIFIED_NAME_MAX_LENGTH}`, `${key}.matches(${celString(QUALIFIED_NAME)})`, ...RESERVED_KEY_PREFIXES.map((prefix) => `!${key}.startsWith('${prefix}')`)].join(' && ');

const userKeysRule = (field: string): ValidationRule<Record<string, string>> => ({
  rule: `self.all(key, ${celUserKey('key')})`,
  message: `${field} keys must be label keys (an optional DNS prefix and '/', then up to 63 letters, digits, '-', '_' or '.'), not under ${RESERVED_KEY_PREFIXES.join(' or ')}: the operator sets those itself`,
  holds: (map) => Object.keys(map).every((key) => metadataKeyProblem(key) === undefined),
});

const monitoringLabels = () =>
  described(
    z
      .record(z.string().max(QUALIFIED_NAME_MAX_LENGTH), z.string().max(LABEL_VALUE_MAX_LENGTH))
      .refine((labels) => Object.keys(labels).length <= MAX_MONITORING_LABELS, `monitoring.labels may have at most ${MAX_MONITORING_LABELS} entries`),
    'Extra labels on the ServiceMonitors, the PrometheusRule and the AlertmanagerConfig, over the operator\'s --monitoring-labels (a key here wins), ' +
      `e.g. release: kube-prometheus-stack, which a stock kube-prometheus-stack's Prometheus selects by. At most ${MAX_MONITORING_LABELS}. Default none.`,
    [
      userKeysRule('monitoring.labels'),
      {
        rule: `self.all(key, self[key].matches(${celString(OPTIONAL_LABEL_VALUE)}))`,
        message: "monitoring.labels values must be label values: up to 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit",
        holds: (labels) => Object.values(labels).every((value) => labelValueProblem(value) === undefined),
      },
    ],
    { maxProperties: MAX_MONITORING_LABELS },
  ).optional();

const monitoringAnnotations = () =>
  described(
    z
      .record(z.string().max(QUALIFIED_NAME_MAX_LENGTH), z.string().max(4096))
      .refine((annotations) => Object.keys(annotations).length <= MAX_MONITORING_ANNOTATIONS, `monitoring.annotations may have at most ${MAX_MONITORING_ANNOTATIONS} entries`),
    `Extra annotations on the ServiceMonitors, the PrometheusRule and the AlertmanagerConfig, over the operator's --monitoring-annotations (a key here wins). At most ${MAX_MONITORING_ANNOTATIONS}. Default none.`,
    [userKeysRule('monitoring.annotations')],
    { maxProperties: MAX_MONITORING_ANNOTATIONS },
  ).optional();

export const dashboardLabelSchema = described(
  z.object({
    key: described(z.string().max(QUALIFIED_NAME_MAX_LENGTH), 'Label key, e.g. grafana_dashboard (the Grafana sidecar\'s sidecar.dashboards.label).', [
      {
        rule: celUserKey('self'),
        message: `dashboardLabel.key must be a label key (an optional DNS prefix and '/', then up to 63 letters, digits, '-', '_' or '.'), not under ${RESERVED_KEY_PREFIXES.join(' or ')}`,
        holds: (key: string) => metadataKeyProblem(key) === undefined,
      },
    ]),
    value: described(z.string().max(LABEL_VALUE_MAX_LENGTH), 'Label value, e.g. "1" (the sidecar\'s sidecar.dashboards.labelValue); may be empty.', [
      matches(OPTIONAL_LABEL_VALUE, "dashboardLabel.value must be a label value: up to 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit"),
    ]),
  }),
  'The label the Grafana sidecar loads the dashboard ConfigMaps by, instead of the operator\'s --dashboard-label (default grafana_dashboard: "1", what kube-prometheus-stack\'s sidecar selects).',
);

export const monitoringSpecSchema = described(
  z.object({
    enabled: described(
      z.boolean(),
      'Whether to create the ServiceMonitors, the PrometheusRule and the Grafana dashboards (needs kube-prometheus-stack). Default true.',
    ).default(true),
    highRequestRate: described(
      z.object({
        perMinute: described(
          z.number().positive(),
          'Classified messages per minute, summed over all versions, above which the alert fires; greater than 0. Default 15.',
        ).default(15),
        for: described(z.string().max(32), 'How long the rate must stay above perMinute before the alert fires, a Prometheus duration such as 2m or 1h30m. Default 2m.', [
          {
            rule: `self.size() > 0 && self.matches(${celString(PROMETHEUS_DURATION)})`,
            message: 'for must be a Prometheus duration such as 30s, 2m or 1h30m (units y, w, d, h, m, s, ms, largest first)',
            holds: (value: string) => value.length > 0 && new RegExp(PROMETHEUS_DURATION).test(value),
          },
        ]).default('2m'),
      }),
      'The HighRequestRate alert of the PrometheusRule.',
    ).prefault({}),
    email: emailAlertingSchema.optional(),
    labels: monitoringLabels(),
    annotations: monitoringAnnotations(),
    dashboardLabel: dashboardLabelSchema.optional(),
  }),
  'Prometheus scraping, the HighRequestRate alert, Grafana dashboards and optional e-mail alerting.',
);

export const DEFAULT_MODEL_HOST_PATH = '/mnt/shared/models';

export const storageSpecSchema = described(
  z.object({
    hostPath: described(
      z.string().max(1024),
      `Absolute directory on every node that holds the model artifacts (mounted read-only at /models; it must exist, or the model pods fail to start with a clear event; restricted Pod Security forbids hostPath, use persistentVolumeClaim there). The default storage is hostPath ${DEFAULT_MODEL_HOST_PATH}.`,
      [
        {
          rule: `self.startsWith('/') && !self.matches(${celString(PARENT_SEGMENT)})`,
          message: "hostPath must be an absolute path without '..' segments, e.g. /mnt/shared/models",
          holds: (path: string) => path.startsWith('/') && !new RegExp(PARENT_SEGMENT).test(path),
        },
      ],
    ).optional(),
    persistentVolumeClaim: dnsName('Name of an existing PersistentVolumeClaim in the experiment namespace that holds the model artifacts (mounted read-only).').optional(),
  }),
  `Where the model service reads its artifacts: exactly one of hostPath or persistentVolumeClaim. Default hostPath ${DEFAULT_MODEL_HOST_PATH}.`,
  [
    {
      rule: 'has(self.hostPath) != has(self.persistentVolumeClaim)',
      message: 'storage must set exactly one of storage.hostPath or storage.persistentVolumeClaim',
      holds: (storage) => (storage.hostPath === undefined) !== (storage.persistentVolumeClaim === undefined),
    },
  ],
);

/** The app's request-latency bucket bounds (seconds): a slow-request threshold must be one of them. */
export const LATENCY_BUCKET_BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/** Signals a progression can gate on: the canary signals of the analysis (higher = worse for each). */
export const GATE_SIGNALS = ['errors', 'slow', 'spam', 'guesses'] as const;
export const SHADOW_LEANS = ['shadow-flags-more-spam', 'stable-flags-more-spam'] as const;
export const DEFAULT_STEPS = [5, 10, 25, 50, 100];
const MAX_STEPS = 20;
const MAX_STEP_DURATION = '24h';

const stepDuration = (what: string, defaultDuration: string) =>
  described(z.string().max(32), `${what}, a duration from 10s to ${MAX_STEP_DURATION} written with h, m, s or ms, e.g. 10m. Default ${defaultDuration}.`, [
    {
      rule: `self.matches(${celString(GO_DURATION)}) && duration(self) >= duration('10s') && duration(self) <= duration(${celString(MAX_STEP_DURATION)})`,
      message: `must be a duration from 10s to ${MAX_STEP_DURATION} written with h, m, s or ms, e.g. 10m`,
      holds: (text: string) => {
        const seconds = durationSeconds(text);
        return seconds !== undefined && seconds >= 10 && seconds <= 86_400;
      },
    },
  ]).default(defaultDuration);

export const gateSchema = described(
  z.object({
    signal: described(z.enum(GATE_SIGNALS), 'The signal that gates the steps: errors (5xx answers), slow (requests slower than slowRequestSeconds), spam (spam answers) or guesses (answers the user said were wrong).'),
    margin: described(
      z.number().min(0).max(10),
      'Tolerance, relative to the stable version: the canary may have up to (1 + margin) times the stable event rate. A canary shown above it is rolled back; one shown below it passes. 0 to 10. Default 0.2.',
    ).default(0.2),
    negligibleRate: described(
      z.number().min(0).lt(1),
      "An event rate so small that the difference does not matter: a canary whose own rate is shown below it passes whatever the ratio (with no events in either version the ratio cannot be bounded). 0 (never) to below 1. Default 0.01.",
    ).default(0.01),
  }),
  'One signal that gates the steps, with its tolerance.',
);

export const fromShadowSchema = described(
  z.object({
    minAgreement: described(z.number().gt(0).max(1), 'Share of mirrored messages the shadow model must be shown to classify as the stable model does (the lower end of the agreement interval) before it becomes the canary. Above 0, at most 1. Default 0.95.').default(0.95),
    minComparisons: described(z.number().int().min(1).max(10_000_000), 'Mirrored messages compared before the shadow may become the canary. At least 1. Default 200.').default(200),
    rejectLeans: described(
      z.array(z.enum(SHADOW_LEANS)).max(2),
      'Leans of the disagreements that reject the shadow once shown, e.g. [shadow-flags-more-spam] for a model that must not flag more. Default none.',
      [],
      { 'x-kubernetes-list-type': 'set' },
    ).default([]),
    maxDuration: stepDuration('How long the shadow may take to pass before it is rejected', '30m'),
  }),
  'Start in shadow mode: the shadow model becomes the canary (its image and artifact in the canary model slot) once its agreement passes, then the steps run. Needs mode: shadow.',
);

export const progressionSpecSchema = described(
  z.object({
    steps: described(
      z.array(z.number().int().min(1).max(100)).min(1).max(MAX_STEPS),
      `Canary weights (percent) of the steps, strictly increasing, each 1 to 100, at most ${MAX_STEPS}. After the last step (or on reaching 100) the canary is promoted: all traffic goes to it. Default ${DEFAULT_STEPS.join(', ')}.`,
      [
        {
          rule: 'self.isSorted() && self.all(step, self.indexOf(step) == self.lastIndexOf(step))',
          message: 'steps must be strictly increasing, e.g. [5, 10, 25, 50, 100]',
          holds: (steps: number[]) => steps.every((step, index) => index === 0 || step > (steps[index - 1] as number)),
        },
      ],
    ).default(DEFAULT_STEPS),
    minCanaryRequests: described(z.number().int().min(1).max(10_000_000), 'Canary requests a step needs before the evidence may advance it. At least 1. Default 200.').default(200),
    maxStepDuration: stepDuration('The longest a step lasts: then it advances or holds (onMaxDuration) unless the canary was shown worse', '10m'),
    onMaxDuration: described(
      z.enum(['hold', 'advance']),
      'What happens when a step reaches maxStepDuration without the evidence deciding: hold (stay, phase Paused, a person decides) or advance (no harm was shown, so take the next step). Default hold.',
    ).default('hold'),
    gates: described(z.array(gateSchema).min(1).max(GATE_SIGNALS.length), 'The signals that gate the steps, each at most once. Default errors and slow, margin 0.2 each.', [
      {
        rule: 'self.all(gate, self.filter(other, other.signal == gate.signal).size() == 1)',
        message: 'gates may name each signal once',
        holds: (gates: { signal: string }[]) => new Set(gates.map((gate) => gate.signal)).size === gates.length,
      },
    ]).default([
      { signal: 'errors', margin: 0.2, negligibleRate: 0.01 },
      { signal: 'slow', margin: 0.2, negligibleRate: 0.01 },
    ]),
    fromShadow: fromShadowSchema.optional(),
  }),
  'Progressive delivery: the operator drives the canary weight through the steps on the evidence, rolls back a canary shown worse and promotes one shown not worse. spec.traffic.weights then only override: an edit during a run pauses it and takes effect. Absent: the weights are the user\'s, untouched.',
);

export const analysisSpecSchema = described(
  z.object({
    alpha: described(
      z.number().gt(0).max(0.5),
      'Probability of a false verdict for the whole experiment, shared between its signals (anytime-valid: it holds however often the operator looks). Above 0, at most 0.5. Default 0.05.',
    ).default(0.05),
    slowRequestSeconds: described(
      z.number(),
      `A request slower than this counts as slow; one of the app's latency bucket bounds (${LATENCY_BUCKET_BOUNDS.join(', ')}). Default 0.25.`,
      [
        {
          rule: `self in [${LATENCY_BUCKET_BOUNDS.map((bound) => bound.toFixed(3)).join(', ')}]`,
          message: `slowRequestSeconds must be one of the app's latency bucket bounds: ${LATENCY_BUCKET_BOUNDS.join(', ')}`,
          holds: (value: number) => (LATENCY_BUCKET_BOUNDS as readonly number[]).includes(value),
        },
      ],
    ).default(0.25),
    progression: progressionSpecSchema.optional(),
  }),
  'How the operator judges the evidence it reads from Prometheus (with its --prometheus-url); with progression it also drives the canary weight on it.',
);

export const DEFAULT_PROGRESS_DEADLINE_SECONDS = 600;
const MIN_PROGRESS_DEADLINE_SECONDS = 5;
const MAX_PROGRESS_DEADLINE_SECONDS = 86_400;

type ServingSpec = {
  mode: 'canary' | 'shadow';
  app: { stable: { replicas: number }; canary: { replicas: number } };
  model: { stable: { replicas: number }; canary: { replicas: number }; shadow: { replicas: number } };
  traffic: { weights: { stable: number; canary: number }; mirrorPercent: number };
};

/**
 * Traffic only for versions that have pods: a weight (or a mirror share) for a version scaled to zero
 * would send users to an empty Istio subset, where Envoy answers 503. Refused at admission rather than
 * held by the operator: the person editing learns it at once, from kubectl, and nothing half-applies.
 * The app canary needs its paired model canary too, or its users' classifications fail.
 */
function servingReplicaRules(): ValidationRule<ServingSpec>[] {
  // Every field read, parents first: the API server checks `spec: {}` defaults before nesting them.
  const present = [
    'mode', 'app', 'app.stable', 'app.stable.replicas', 'app.canary', 'app.canary.replicas',
    'model', 'model.stable', 'model.stable.replicas', 'model.canary', 'model.canary.replicas', 'model.shadow', 'model.shadow.replicas',
    'traffic', 'traffic.weights', 'traffic.weights.stable', 'traffic.weights.canary', 'traffic.mirrorPercent',
  ];
  return [
    {
      rule: whenPresent(present, "self.mode != 'canary' || self.traffic.weights.canary == 0 || (self.app.canary.replicas > 0 && self.model.canary.replicas > 0)"),
      message:
        'traffic.weights.canary is above 0 while app.canary.replicas or model.canary.replicas is 0: the canary would get users with no pod to answer them; scale the canary up or set its weight to 0',
      fieldPath: '.traffic.weights.canary',
      holds: (spec) => spec.mode !== 'canary' || spec.traffic.weights.canary === 0 || (spec.app.canary.replicas > 0 && spec.model.canary.replicas > 0),
    },
    {
      rule: whenPresent(present, "(self.mode == 'canary' && self.traffic.weights.stable == 0) || (self.app.stable.replicas > 0 && self.model.stable.replicas > 0)"),
      message:
        'app.stable.replicas or model.stable.replicas is 0 while the stable version gets traffic (a stable weight above 0, or shadow mode): scale the stable version up, or move every user to the canary first',
      fieldPath: '.app.stable.replicas',
      holds: (spec) => (spec.mode === 'canary' && spec.traffic.weights.stable === 0) || (spec.app.stable.replicas > 0 && spec.model.stable.replicas > 0),
    },
    {
      rule: whenPresent(present, "self.mode != 'shadow' || self.traffic.mirrorPercent == 0.0 || self.model.shadow.replicas > 0"),
      message: 'traffic.mirrorPercent is above 0 while model.shadow.replicas is 0: the mirrored calls would have no shadow pod; scale the shadow up or set mirrorPercent to 0',
      fieldPath: '.traffic.mirrorPercent',
      holds: (spec) => spec.mode !== 'shadow' || spec.traffic.mirrorPercent === 0 || spec.model.shadow.replicas > 0,
    },
  ];
}

export const smsExperimentSpecSchema = described(
  z.object({
    mode: described(
      z.enum(['canary', 'shadow']),
      'canary: the app and model canaries get traffic.weights of the experiment host (paired routing). shadow: only stable versions serve users and the shadow model gets a mirrored copy of traffic.mirrorPercent of model calls. Default canary.',
    ).default('canary'),
    app: appSpecSchema.prefault({}),
    model: modelSpecSchema.prefault({}),
    traffic: trafficSpecSchema.prefault({}),
    istio: istioSpecSchema.prefault({}),
    ingress: ingressSpecSchema.prefault({}),
    monitoring: monitoringSpecSchema.prefault({}),
    storage: storageSpecSchema.default({ hostPath: DEFAULT_MODEL_HOST_PATH }),
    analysis: analysisSpecSchema.prefault({}),
    progressDeadlineSeconds: described(
      z.number().int().min(MIN_PROGRESS_DEADLINE_SECONDS).max(MAX_PROGRESS_DEADLINE_SECONDS),
      `Seconds a Deployment of the experiment may take to make progress before its rollout counts as stalled ` +
        `(the Deployments' progressDeadlineSeconds); a stalled rollout makes the experiment Degraded. ` +
        `${MIN_PROGRESS_DEADLINE_SECONDS} to ${MAX_PROGRESS_DEADLINE_SECONDS}. Default ${DEFAULT_PROGRESS_DEADLINE_SECONDS}.`,
    ).default(DEFAULT_PROGRESS_DEADLINE_SECONDS),
  }),
  'Desired state of the experiment; every field has a default, so spec: {} is a 90/10 canary.',
  [
    ...servingReplicaRules(),
    {
      rule: whenPresent(['mode', 'analysis'], "!has(self.analysis.progression) || ((self.mode == 'shadow') == has(self.analysis.progression.fromShadow))"),
      message:
        'analysis.progression.fromShadow goes with mode: shadow and only there: a progression in shadow mode starts by judging the shadow model, one in canary mode steps the canary at once',
      fieldPath: '.analysis.progression',
      holds: (spec) => spec.analysis.progression === undefined || (spec.mode === 'shadow') === (spec.analysis.progression.fromShadow !== undefined),
    },
    {
      rule: whenPresent(
        ['ingress', 'istio', 'istio.hosts'],
        '!self.ingress.enabled || !(self.ingress.host in [self.istio.hosts.experiment, self.istio.hosts.stable, self.istio.hosts.canary])',
      ),
      message: 'ingress.host must differ from the istio.hosts: NGINX and the Istio gateway have different addresses, so one name cannot reach both',
      fieldPath: '.ingress.host',
      holds: (spec) => !spec.ingress.enabled || ![spec.istio.hosts.experiment, spec.istio.hosts.stable, spec.istio.hosts.canary].includes(spec.ingress.host),
    },
  ],
);

export const conditionSchema = described(
  z.object({
    type: described(z.string(), 'Ready, Progressing or Degraded.'),
    status: described(z.enum(['True', 'False', 'Unknown']), 'True, False or Unknown.'),
    reason: described(z.string(), 'One CamelCase word for the last transition.'),
    message: described(z.string(), 'Human-readable details of the last transition.'),
    lastTransitionTime: described(z.string(), 'When the status last changed (RFC 3339).'),
    observedGeneration: described(z.number().int().min(0), 'The metadata.generation this condition was computed from.').optional(),
  }),
  'One condition of the experiment.',
);

export const versionReplicasSchema = described(
  z.object({
    component: described(z.enum(['app', 'model']), 'app or model.'),
    role: described(z.enum(['stable', 'canary', 'shadow']), 'stable, canary or shadow.'),
    version: described(z.string(), 'The version label of the pods.'),
    deployment: described(z.string(), 'Name of the Deployment.'),
    desired: described(z.number().int().min(0), 'Replicas asked for.'),
    ready: described(z.number().int().min(0), 'Replicas ready.'),
  }),
  'Replicas of one deployed version.',
);

export const ownedObjectSchema = described(
  z.object({
    apiVersion: described(z.string(), 'apiVersion of the object.'),
    kind: described(z.string(), 'Kind of the object.'),
    name: described(z.string(), 'Name of the object, in the experiment namespace.'),
  }),
  'One object the operator created for this experiment.',
);

const armCountsSchema = z.object({
  trials: described(z.number().int().min(0), 'Requests (or messages) since the step began.'),
  events: described(z.number().int().min(0), 'Of those, the ones with the event (an error, a slow request, a spam answer, a wrong guess).'),
});

export const signalAnalysisSchema = described(
  z.object({
    name: described(z.string(), 'errors, slow, spam or guesses.'),
    stable: described(armCountsSchema, 'Counts of the stable version since the step began.'),
    canary: described(armCountsSchema, 'Counts of the canary version since the step began.'),
    verdict: described(z.enum(['worse', 'better', 'no-difference-yet', 'sample-ratio-mismatch']), 'The verdict of this signal.'),
    pValue: described(z.number(), 'Anytime-valid p-value of "same event rate" (compare with the share of alpha this signal has).'),
    srmPValue: described(z.number(), 'Anytime-valid p-value of "the split of trials is the designed one".'),
    rateRatio: described(z.number(), 'Canary event rate over stable event rate, -1 when undefined (no stable events yet).').optional(),
    interval: described(z.array(z.number()), 'Confidence sequence of the rate ratio, [low, high]; high may be -1 for unbounded.').optional(),
  }),
  'One signal of the canary step.',
);

export const shadowAnalysisSchema = described(
  z.object({
    version: described(z.string(), 'The shadow version compared with the stable model.'),
    bothSpam: described(z.number().int().min(0), 'Messages both models called spam.'),
    bothHam: described(z.number().int().min(0), 'Messages both models called ham.'),
    shadowOnlySpam: described(z.number().int().min(0), 'Messages only the shadow called spam.'),
    stableOnlySpam: described(z.number().int().min(0), 'Messages only the stable model called spam.'),
    agreementRate: described(z.number(), 'Share of compared messages both models classified alike; -1 before the first.'),
    agreementInterval: described(z.array(z.number()), 'Confidence sequence of the agreement rate, [low, high].'),
    lean: described(z.enum(['shadow-flags-more-spam', 'stable-flags-more-spam', 'no-lean-yet']), 'Which way the disagreements lean.'),
    leanPValue: described(z.number(), 'Anytime-valid p-value of "disagreements split 50/50".'),
  }),
  'The shadow model compared with the stable model on the mirrored messages.',
);

export const analysisStatusSchema = described(
  z.object({
    step: described(z.string(), 'What the current step compares (mode, versions, split in effect); the evidence restarts when it changes.'),
    stepStartedAt: described(z.string(), 'When the current step began (RFC 3339).'),
    lastCollectedAt: described(z.string(), 'When the counts were last read from Prometheus (RFC 3339).').optional(),
    verdict: described(z.enum(['worse', 'better', 'no-difference-yet', 'sample-ratio-mismatch']), 'The overall verdict of the canary step (canary mode).').optional(),
    alpha: described(z.number(), 'The alpha shared by the signals.'),
    signals: described(z.array(signalAnalysisSchema), 'Per signal: counts per version, rate ratio and interval, p-values, verdict.', [], {
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
    }).optional(),
    shadow: shadowAnalysisSchema.optional(),
    state: described(z.looseObject({}), 'The statistics\' running state and the counters\' memory, so a restart or failover loses nothing (internal).').optional(),
  }),
  'What the operator measured and concluded for the current step (needs its --prometheus-url).',
);

/** The annotation a person (or `kubectl smsx`) sets to act on a run: `<action>` or `<action>/<nonce>`, each value acted on once. */
export const REQUEST_ANNOTATION = `${GROUP}/request`;
export const REQUEST_ACTIONS = ['pause', 'resume', 'abort', 'skip', 'promote', 'retry'] as const;
export type RequestAction = (typeof REQUEST_ACTIONS)[number];

export const PROGRESSION_PHASES = ['Shadowing', 'Progressing', 'Paused', 'Halted', 'Promoted', 'RolledBack', 'Aborted', 'ShadowRejected'] as const;
/** Phases a run ends in: their weights stay until the versions change or a person retries. */
export const TERMINAL_PHASES: ReadonlySet<string> = new Set(['Promoted', 'RolledBack', 'Aborted', 'ShadowRejected']);

const weightsStatus = (description: string) =>
  described(z.object({ stable: described(z.number().int(), 'Percent to the stable app.'), canary: described(z.number().int(), 'Percent to the canary app.') }), description);

export const progressionRecordSchema = described(
  z.object({
    step: described(z.number().int().min(0), 'The step (1-based; 0 is the shadow phase).'),
    canaryWeight: described(z.number().int(), 'The canary weight of the step (0 in the shadow phase).'),
    startedAt: described(z.string(), 'When the step began (RFC 3339).'),
    endedAt: described(z.string(), 'When it ended (RFC 3339).'),
    outcome: described(z.string(), 'Advanced, Promoted, RolledBack, Halted, Held, Paused, Aborted, Skipped, ShadowPassed or ShadowRejected.'),
    canaryRequests: described(z.number().int().min(0), 'Canary requests (mirrored messages in the shadow phase) the step saw.'),
    message: described(z.string(), 'The evidence behind the outcome.'),
  }),
  'One ended step of the run.',
);

export const progressionStatusSchema = described(
  z.object({
    run: described(z.string(), 'The versions and steps this run is about; when they change a new run starts from the first step.'),
    phase: described(z.enum(PROGRESSION_PHASES), 'Shadowing, Progressing, Paused, Halted (the split is broken: the evidence cannot be trusted), Promoted, RolledBack, Aborted or ShadowRejected.'),
    step: described(z.number().int().min(0), 'The current step, 1-based (0 while the shadow is judged).'),
    steps: described(z.number().int().min(1), 'How many steps the run has.'),
    mode: described(z.enum(['canary', 'shadow']), 'The mode the run puts in effect.'),
    weights: weightsStatus('The weights the run drives (the steps\' weight, 100/0 after a rollback, 0/100 once promoted).'),
    weightsFrom: described(z.enum(['steps', 'spec']), 'Whose weights are in effect: the steps\', or spec.traffic.weights after a person edited them.'),
    acknowledgedWeights: weightsStatus('spec.traffic.weights as the run last took note of them: an edit beyond them pauses the run and takes effect.'),
    stepStartedAt: described(z.string(), 'When the current step\'s traffic took effect (RFC 3339).').optional(),
    epoch: described(z.number().int().min(0), 'Counts restarts of the step\'s evidence (a resume after a halt or a weight edit).'),
    pausedBy: described(z.enum(['request', 'weights-edited', 'max-duration']), 'Why the run is paused.').optional(),
    handledRequest: described(z.string(), 'The last request (annotation) acted on.').optional(),
    message: described(z.string(), 'Where the run stands, with the evidence.'),
    nextAction: described(z.string(), 'What a person does next, if anything.').optional(),
    history: described(z.array(progressionRecordSchema).max(64), 'The ended steps, oldest first.', [], { 'x-kubernetes-list-type': 'atomic' }),
  }),
  'Progressive delivery (spec.analysis.progression): the run\'s phase, step and weights, written by the analysis loop.',
);

export const smsExperimentStatusSchema = described(
  z.object({
    observedGeneration: described(z.number().int().min(0), 'The metadata.generation the operator last acted on.').optional(),
    conditions: described(z.array(conditionSchema), 'Ready, Progressing and Degraded.', [], {
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
    }).optional(),
    mode: described(z.enum(['canary', 'shadow']), 'The mode in effect.').optional(),
    weights: described(
      z.object({
        stable: described(z.number().int(), 'Percentage of the experiment host routed to the stable app.'),
        canary: described(z.number().int(), 'Percentage of the experiment host routed to the canary app.'),
      }),
      'The weights in effect on the experiment host (0/100 splits are reported as such).',
    ).optional(),
    mirrorPercent: described(z.number(), 'The percentage of model calls mirrored to the shadow model in effect.').optional(),
    ready: described(z.string(), 'Ready pods over desired pods across all versions, e.g. 4/4.').optional(),
    replicas: described(z.array(versionReplicasSchema), 'Replicas per deployed version.', [], {
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['component', 'role'],
    }).optional(),
    ownedObjects: described(z.array(ownedObjectSchema), 'The objects the operator created and keeps in sync.', [], {
      'x-kubernetes-list-type': 'atomic',
    }).optional(),
    claimedHosts: described(z.array(z.string()), 'The hosts this experiment routes on its gateway: another experiment that asks for one of them is refused (HostConflict).', [], {
      'x-kubernetes-list-type': 'atomic',
    }).optional(),
    analysis: analysisStatusSchema.optional(),
    progression: progressionStatusSchema.optional(),
  }),
  'Observed state, written by the operator.',
);

export const objectMetaSchema = z.looseObject({
  name: z.string(),
  namespace: z.string(),
  uid: z.string().optional(),
  generation: z.number().int().optional(),
  resourceVersion: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  deletionTimestamp: z.string().optional(),
});

const experimentNameRule = {
  rule: `self.metadata.name.size() <= ${EXPERIMENT_NAME_MAX_LENGTH} && self.metadata.name.matches(${celString(EXPERIMENT_NAME)})`,
  message:
    `metadata.name must be at most ${EXPERIMENT_NAME_MAX_LENGTH} characters of lowercase letters, digits and '-', starting with a letter: ` +
    'it prefixes the names of the Services and other objects the operator creates',
  holds: (experiment: { metadata: { name: string } }) =>
    experiment.metadata.name.length <= EXPERIMENT_NAME_MAX_LENGTH && new RegExp(EXPERIMENT_NAME).test(experiment.metadata.name),
};

export const smsExperimentSchema = described(
  z.object({
    apiVersion: described(z.literal(API_VERSION), `Always ${API_VERSION}.`),
    kind: described(z.literal(KIND), `Always ${KIND}.`),
    metadata: described(objectMetaSchema, 'Standard object metadata.'),
    spec: smsExperimentSpecSchema.prefault({}),
    status: smsExperimentStatusSchema.optional(),
  }),
  'A canary release or shadow launch of the SMS spam detection app and model service on Istio. ' +
    'The operator creates and keeps in sync every Deployment, Service, Istio, Ingress and monitoring object it needs.',
  [experimentNameRule],
);

export type SmsExperimentSpecInput = z.input<typeof smsExperimentSpecSchema>;
export type SmsExperimentSpec = z.output<typeof smsExperimentSpecSchema>;
export type SmsExperimentStatus = z.output<typeof smsExperimentStatusSchema>;
export type SmsExperiment = z.output<typeof smsExperimentSchema>;
export type Condition = z.output<typeof conditionSchema>;
export type AnalysisStatus = z.output<typeof analysisStatusSchema>;
export type ProgressionSpec = z.output<typeof progressionSpecSchema>;
export type ProgressionStatus = z.output<typeof progressionStatusSchema>;
export type ProgressionPhase = ProgressionStatus['phase'];
export type Mode = SmsExperimentSpec['mode'];

export { durationSeconds } from './formats.ts';
export { formatIssues } from './issues.ts';
