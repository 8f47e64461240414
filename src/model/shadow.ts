// Tells mirrored (shadow) requests from live ones. SHADOW_MODE (set on the shadow Deployment) is
// what marks them under Istio >= 1.28, whose mirror policies keep the Host (DISABLE_SHADOW_HOST_SUFFIX
// defaults to true). Where a mesh turns that off, Envoy appends "-shadow" to the host part of the
// Host/:authority header: "sms-app-model:8081" arrives as "sms-app-model-shadow:8081"
// (envoyproxy/envoy#2600; before 2018 it was appended after the port).

export type TrafficSource = 'live' | 'shadow';

const PORT_SUFFIX = /:\d+$/;

export function isShadowHost(host: string | undefined): boolean {
  if (host === undefined) return false;
  const name = host.trim().toLowerCase();
  return name.replace(PORT_SUFFIX, '').endsWith('-shadow') || name.endsWith('-shadow');
}

export function trafficSource(shadowMode: boolean, host: string | undefined): TrafficSource {
  return shadowMode || isShadowHost(host) ? 'shadow' : 'live';
}
