// The plain-JSON shapes the renderer produces. Core kinds reuse the @kubernetes/client-node model
// types for their specs (as types only: the objects stay plain literals, never class instances);
// Istio and prometheus-operator kinds get minimal interfaces covering the fields we set.
import type { V1DeploymentSpec, V1IngressSpec, V1ServiceSpec } from '@kubernetes/client-node';
import type { OwnerReference } from '../kube/objects.ts';
import type { RetainedSubsets, TrafficPlan } from './traffic.ts';

export type Labels = Record<string, string>;

// Type aliases rather than interfaces where the operator's apply layer receives the objects: only
// aliases are assignable to its index-signature types (`{ [field: string]: unknown }`).

export type DesiredMetadata = {
  name: string;
  namespace: string;
  labels: Labels;
  annotations?: Record<string, string>;
  ownerReferences: OwnerReference[];
};

type Desired<ApiVersion extends string, Kind extends string> = {
  apiVersion: ApiVersion;
  kind: Kind;
  metadata: DesiredMetadata;
};

// ---- core ----

export type ConfigMapObject = Desired<'v1', 'ConfigMap'> & {
  data: Record<string, string>;
};

export type ServiceObject = Desired<'v1', 'Service'> & {
  spec: V1ServiceSpec;
};

export type DeploymentObject = Desired<'apps/v1', 'Deployment'> & {
  spec: V1DeploymentSpec;
};

export type PodDisruptionBudgetObject = Desired<'policy/v1', 'PodDisruptionBudget'> & {
  spec: { maxUnavailable: number; selector: { matchLabels: Labels } };
};

export type IngressObject = Desired<'networking.k8s.io/v1', 'Ingress'> & {
  spec: V1IngressSpec;
};

// ---- Istio networking.istio.io/v1 ----

export interface StringMatch {
  exact?: string;
  prefix?: string;
  regex?: string;
}

export interface HttpMatchRequest {
  name?: string;
  authority?: StringMatch;
  headers?: Record<string, StringMatch>;
  sourceLabels?: Labels;
  sourceNamespace?: string;
}

export interface Destination {
  host: string;
  subset?: string;
}

export interface HeaderOperations {
  set?: Record<string, string>;
  add?: Record<string, string>;
  remove?: string[];
}

export interface HttpRouteDestination {
  destination: Destination;
  weight?: number;
  headers?: { request?: HeaderOperations; response?: HeaderOperations };
}

export interface HttpRoute {
  name: string;
  match?: HttpMatchRequest[];
  route: HttpRouteDestination[];
  mirror?: Destination;
  mirrorPercentage?: { value: number };
}

export type VirtualServiceObject = Desired<'networking.istio.io/v1', 'VirtualService'> & {
  spec: { hosts: string[]; gateways?: string[]; http: HttpRoute[] };
};

export interface Subset {
  name: string;
  labels: Labels;
}

export type DestinationRuleObject = Desired<'networking.istio.io/v1', 'DestinationRule'> & {
  spec: { host: string; subsets: Subset[] };
};

export interface GatewayServer {
  port: { number: number; name: string; protocol: 'HTTP' | 'HTTPS' };
  hosts: string[];
  tls?: { mode: 'SIMPLE'; credentialName: string } | { httpsRedirect: true };
}

export type GatewayObject = Desired<'networking.istio.io/v1', 'Gateway'> & {
  spec: { selector: Labels; servers: GatewayServer[] };
};

// ---- prometheus-operator monitoring.coreos.com ----

export interface RelabelConfig {
  sourceLabels: string[];
  targetLabel: string;
}

export type ServiceMonitorObject = Desired<'monitoring.coreos.com/v1', 'ServiceMonitor'> & {
  spec: {
    selector: { matchLabels: Labels };
    namespaceSelector: { matchNames: string[] };
    endpoints: { port: string; path: string; interval: string; relabelings: RelabelConfig[] }[];
  };
};

export interface AlertingRule {
  alert: string;
  expr: string;
  for: string;
  labels: Labels;
  annotations: Record<string, string>;
}

export interface RuleGroup {
  name: string;
  rules: AlertingRule[];
}

export type PrometheusRuleObject = Desired<'monitoring.coreos.com/v1', 'PrometheusRule'> & {
  spec: { groups: RuleGroup[] };
};

export interface AlertmanagerMatcher {
  name: string;
  value: string;
  matchType: '=' | '!=' | '=~' | '!~';
}

export interface EmailConfig {
  to: string;
  from: string;
  smarthost: string;
  authUsername: string;
  authPassword: { name: string; key: string };
  sendResolved: boolean;
}

export type AlertmanagerConfigObject = Desired<'monitoring.coreos.com/v1alpha1', 'AlertmanagerConfig'> & {
  spec: {
    route: { receiver: string; groupBy: string[]; matchers: AlertmanagerMatcher[] };
    receivers: { name: string; emailConfigs: EmailConfig[] }[];
  };
};

/** Every object render() can produce; each is assignable to the apply layer's DesiredObject. */
export type RenderedObject =
  | ConfigMapObject
  | ServiceObject
  | DeploymentObject
  | PodDisruptionBudgetObject
  | IngressObject
  | GatewayObject
  | VirtualServiceObject
  | DestinationRuleObject
  | ServiceMonitorObject
  | PrometheusRuleObject
  | AlertmanagerConfigObject;

/** The operator's cluster-wide monitoring settings (its flags); spec.monitoring overrides them. */
export interface MonitoringDefaults {
  /** On the ServiceMonitors, PrometheusRule and AlertmanagerConfig, e.g. release=kube-prometheus-stack. */
  labels: Readonly<Record<string, string>>;
  annotations: Readonly<Record<string, string>>;
  /** The label the Grafana sidecar loads dashboard ConfigMaps by. */
  dashboardLabel: { key: string; value: string };
}

export interface RenderOptions {
  /** The operator's monitoring settings; none but the default dashboard label when absent. */
  monitoringDefaults?: MonitoringDefaults;
  /** Whether the prometheus-operator CRDs exist in the cluster; monitoring objects are skipped when false. */
  monitoring?: boolean;
  /** The traffic to route; the spec's when absent. */
  traffic?: TrafficPlan;
  /** DestinationRule subsets to keep for versions that live routing still names. */
  retainedSubsets?: RetainedSubsets;
}
