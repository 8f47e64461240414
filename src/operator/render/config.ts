// The app's ConfigMap (seed §3.1: MODEL_HOST, APP_SERVER_PORT, ...), consumed through envFrom.
import { createHash } from 'node:crypto';
import { compareStrings } from '../../common/compare.ts';
import { objectMetadata, type RenderContext } from './context.ts';
import { standardLabels } from './labels.ts';
import type { ConfigMapObject } from './types.ts';

export function modelServiceUrl(context: RenderContext): string {
  // Namespace-qualified but without the cluster domain, which is not always cluster.local;
  // the pod's DNS search path completes `<service>.<namespace>.svc`.
  return `http://${context.names.modelService}.${context.namespace}.svc:${context.spec.model.port}`;
}

export function appConfigMap(context: RenderContext): ConfigMapObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: objectMetadata(context, context.names.config, standardLabels(context.experiment, 'app')),
    data: {
      APP_SERVER_PORT: String(context.spec.app.port),
      MODEL_HOST: modelServiceUrl(context),
      MODEL_PORT: String(context.spec.model.port),
    },
  };
}

/** envFrom is read at container start only, so the app pod template carries this hash to roll on change. */
export function configHash(configMap: ConfigMapObject): string {
  const entries = Object.entries(configMap.data).sort(([a], [b]) => compareStrings(a, b));
  return createHash('sha256').update(JSON.stringify(entries)).digest('hex').slice(0, 16);
}
