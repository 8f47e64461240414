// The NGINX Ingress for the stable host (seed §5.2).
import { objectMetadata, type RenderContext } from './context.ts';
import { standardLabels } from './labels.ts';
import type { IngressObject } from './types.ts';

/**
 * The backend is the stable-only Service (sms-app-app-v1), not the seed's sms-app-app. NGINX
 * resolves a Service to its pod endpoints and balances across them itself, outside Istio's routing,
 * so backing it with sms-app-app would send a share of "always stable" traffic to canary pods in
 * proportion to their replica count.
 */
export function ingress(context: RenderContext): IngressObject {
  const { spec, names, experiment } = context;
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: objectMetadata(context, names.ingress, standardLabels(experiment, 'ingress')),
    spec: {
      ingressClassName: spec.ingress.className,
      rules: [
        {
          host: spec.ingress.host,
          http: {
            paths: [
              {
                path: '/',
                pathType: 'Prefix',
                backend: { service: { name: names.appVersionService(spec.app.stable.version), port: { name: 'http' } } },
              },
            ],
          },
        },
      ],
    },
  };
}
