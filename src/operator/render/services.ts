// Services. Ports are named `http` so Istio selects the HTTP protocol and the ServiceMonitors
// address the port by name.
import type { V1ServicePort } from '@kubernetes/client-node';
import { objectMetadata, type RenderContext } from './context.ts';
import { SCRAPE_LABEL, VERSION_LABEL, componentSelector, standardLabels } from './labels.ts';
import type { Labels, ServiceObject } from './types.ts';

/** The app Service listens on 80 like the seed's (the NGINX path is "sms-app-app Service (port 80)"). */
export const APP_SERVICE_PORT = 80;

function httpPort(port: number): V1ServicePort[] {
  return [{ name: 'http', port, targetPort: 'http', protocol: 'TCP' }];
}

function service(context: RenderContext, name: string, labels: Labels, selector: Labels, port: number): ServiceObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: objectMetadata(context, name, labels),
    spec: { type: 'ClusterIP', selector, ports: httpPort(port) },
  };
}

/** All app pods (every version): the host Istio's app VirtualService and DestinationRule split. */
export function appService(context: RenderContext): ServiceObject {
  const { experiment, names } = context;
  const labels = { ...standardLabels(experiment, 'app'), [SCRAPE_LABEL]: 'true' };
  return service(context, names.appService, labels, componentSelector(experiment, 'app'), APP_SERVICE_PORT);
}

/** Stable app pods only, for the NGINX Ingress (see ingress.ts for why). */
export function appStableService(context: RenderContext): ServiceObject {
  const { experiment, names, spec } = context;
  const version = spec.app.stable.version;
  const selector = { ...componentSelector(experiment, 'app'), [VERSION_LABEL]: version };
  return service(context, names.appVersionService(version), standardLabels(experiment, 'app', version), selector, APP_SERVICE_PORT);
}

/** All model pods, including the shadow: Istio can only mirror to a subset of the routed host. */
export function modelService(context: RenderContext): ServiceObject {
  const { experiment, names, spec } = context;
  const labels = { ...standardLabels(experiment, 'model'), [SCRAPE_LABEL]: 'true' };
  return service(context, names.modelService, labels, componentSelector(experiment, 'model'), spec.model.port);
}

/** One model version (seed: sms-app-model-v1, sms-app-model-v2), for direct per-version access. */
export function modelVersionService(context: RenderContext, version: string): ServiceObject {
  const { experiment, names, spec } = context;
  const selector = { ...componentSelector(experiment, 'model'), [VERSION_LABEL]: version };
  return service(context, names.modelVersionService(version), standardLabels(experiment, 'model', version), selector, spec.model.port);
}

export function renderServices(context: RenderContext): ServiceObject[] {
  const { spec } = context;
  return [
    appService(context),
    ...(spec.ingress.enabled ? [appStableService(context)] : []),
    modelService(context),
    modelVersionService(context, spec.model.stable.version),
    ...(spec.mode === 'canary' ? [modelVersionService(context, spec.model.canary.version)] : []),
  ];
}
