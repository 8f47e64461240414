// Counts every request the operator's KubeClient makes, by verb, resource and status code, so that
// "API requests per experiment" and "writes in a no-op resync" are measurable from /metrics.
import { ApiException } from '@kubernetes/client-node';
import type { KubeClient } from './client.ts';
import type { ResourceType } from './resources.ts';

export type CountRequest = (verb: string, resource: string, code: number) => void;

function statusOf(error: unknown): number {
  return error instanceof ApiException ? error.code : 0;
}

export function withRequestCounting(client: KubeClient, count: CountRequest): KubeClient {
  const counted = async <T>(verb: string, type: ResourceType, call: () => Promise<T>, okCode = 200): Promise<T> => {
    try {
      const result = await call();
      // get resolves undefined when the server answered 404.
      count(verb, type.plural, verb === 'get' && result === undefined ? 404 : okCode);
      return result;
    } catch (error) {
      count(verb, type.plural, statusOf(error));
      throw error;
    }
  };
  return {
    get: (type, location, options) => counted('get', type, () => client.get(type, location, options)),
    list: (type, namespace, options) => counted('list', type, () => client.list(type, namespace, options)),
    apply: (type, body, options) => counted(options.subresource === 'status' ? 'apply-status' : 'apply', type, () => client.apply(type, body, options)),
    create: (type, namespace, body, options) => counted('create', type, () => client.create(type, namespace, body, options), 201),
    replace: (type, location, body, options) => counted('replace', type, () => client.replace(type, location, body, options)),
    delete: (type, location, options) => counted('delete', type, () => client.delete(type, location, options)),
    discover: async (apiVersion, options) => {
      try {
        const resources = await client.discover(apiVersion, options);
        count('discover', apiVersion, resources === undefined ? 404 : 200);
        return resources;
      } catch (error) {
        count('discover', apiVersion, statusOf(error));
        throw error;
      }
    },
  };
}
