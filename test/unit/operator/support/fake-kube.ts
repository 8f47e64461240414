// An in-memory stand-in for the KubeClient interface: records every call and stores applied objects.
// It does not emulate server-side apply merging; tests that need a real API server are integration tests.
import { ApiException } from '@kubernetes/client-node';
import type { ApplyOptions, DeleteOptions, KubeClient, ListResult, ObjectLocation, RequestOptions } from '../../../../src/operator/kube/client.ts';
import type { ResourceType } from '../../../../src/operator/kube/resources.ts';

export type Call =
  | { verb: 'get'; plural: string; namespace: string; name: string }
  | { verb: 'list'; plural: string; namespace: string | undefined; labelSelector: string | undefined }
  | { verb: 'apply'; plural: string; namespace: string; name: string; force: boolean; fieldManager: string; subresource: string | undefined; body: unknown }
  | { verb: 'create'; plural: string; namespace: string; body: unknown }
  | { verb: 'replace'; plural: string; namespace: string; name: string; body: unknown }
  | { verb: 'delete'; plural: string; namespace: string; name: string; options: DeleteOptions | undefined }
  | { verb: 'discover'; apiVersion: string };

export function apiError(code: number, body: unknown): ApiException<unknown> {
  return new ApiException<unknown>(code, `HTTP ${code}`, body, {});
}

export function applyConflict(manager: string, field: string): ApiException<unknown> {
  return apiError(409, {
    kind: 'Status',
    apiVersion: 'v1',
    status: 'Failure',
    message: `Apply failed with 1 conflict: conflict with "${manager}" using apps/v1: ${field}`,
    reason: 'Conflict',
    details: { causes: [{ type: 'FieldManagerConflict', message: `conflict with "${manager}" using apps/v1`, field }] },
    code: 409,
  });
}

export class FakeKubeClient implements KubeClient {
  readonly calls: Call[] = [];
  readonly objects = new Map<string, unknown>();
  /** Lets a test fail a verb: return an error to throw, or undefined to proceed. */
  failWith: (call: Call) => Error | undefined = () => undefined;
  /**
   * Lets a test make a request hang like one to a server that stopped answering: it settles only
   * when the caller's signal aborts it (rejecting with the signal's reason), else never.
   */
  hangWhen: (call: Call) => boolean = () => false;
  /** What discover() answers: group/version → resource plurals. Unlisted versions are not served. */
  readonly served = new Map<string, string[]>();

  static key(plural: string, namespace: string, name: string): string {
    return `${plural}/${namespace}/${name}`;
  }

  callsOf<V extends Call['verb']>(verb: V): Array<Extract<Call, { verb: V }>> {
    return this.calls.filter((call): call is Extract<Call, { verb: V }> => call.verb === verb);
  }

  /** Records the call at once, then settles like a request would: later, rejecting if told to fail. */
  #record(call: Call, signal?: AbortSignal): Promise<void> {
    this.calls.push(call);
    if (this.hangWhen(call)) {
      return new Promise((_resolve, reject) => {
        const abort = () => {
          this.aborted.push(call);
          const reason: unknown = signal?.reason;
          reject(reason instanceof Error ? reason : new Error(String(reason)));
        };
        if (signal?.aborted) abort();
        else signal?.addEventListener('abort', abort, { once: true });
      });
    }
    const error = this.failWith(call);
    return error === undefined ? Promise.resolve() : Promise.reject(error);
  }

  /** Hung requests that their caller aborted, in order. */
  readonly aborted: Call[] = [];

  async get(type: ResourceType, location: ObjectLocation, options?: RequestOptions): Promise<unknown> {
    const call: Call = { verb: 'get', plural: type.plural, namespace: location.namespace, name: location.name };
    await this.#record(call, options?.signal);
    return this.objects.get(FakeKubeClient.key(type.plural, location.namespace, location.name));
  }

  async list(type: ResourceType, namespace: string | undefined, options?: { labelSelector?: string }): Promise<ListResult> {
    await this.#record({ verb: 'list', plural: type.plural, namespace, labelSelector: options?.labelSelector });
    const prefix = `${type.plural}/${namespace ?? ''}`;
    const items = [...this.objects.entries()].filter(([key]) => key.startsWith(prefix)).map(([, value]) => value);
    return { items, metadata: { resourceVersion: '1' } };
  }

  async apply(type: ResourceType, body: { metadata: ObjectLocation }, options: ApplyOptions): Promise<unknown> {
    const { namespace, name } = body.metadata;
    await this.#record({
        verb: 'apply',
        plural: type.plural,
        namespace,
        name,
        force: options.force,
        fieldManager: options.fieldManager,
        subresource: options.subresource,
        body,
      });
    this.objects.set(FakeKubeClient.key(type.plural, namespace, name), body);
    return body;
  }

  #resourceVersion = 100;

  /** Stores the object with a fresh resourceVersion; 409 if the name is taken (if it has one). */
  async create(type: ResourceType, namespace: string, body: unknown, options?: RequestOptions): Promise<unknown> {
    await this.#record({ verb: 'create', plural: type.plural, namespace, body }, options?.signal);
    const name = (body as { metadata?: { name?: string } }).metadata?.name;
    if (name === undefined) return body;
    const key = FakeKubeClient.key(type.plural, namespace, name);
    if (this.objects.has(key)) throw apiError(409, { kind: 'Status', reason: 'AlreadyExists', code: 409 });
    const stored = this.#withResourceVersion(body);
    this.objects.set(key, stored);
    return stored;
  }

  /** Replaces with optimistic concurrency: 409 unless metadata.resourceVersion matches the stored one. */
  async replace(type: ResourceType, location: ObjectLocation, body: unknown, options?: RequestOptions): Promise<unknown> {
    const call: Call = { verb: 'replace', plural: type.plural, namespace: location.namespace, name: location.name, body };
    await this.#record(call, options?.signal);
    const key = FakeKubeClient.key(type.plural, location.namespace, location.name);
    const current = this.objects.get(key) as { metadata?: { resourceVersion?: string } } | undefined;
    if (!current) throw apiError(404, { kind: 'Status', code: 404 });
    const expected = (body as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion;
    if (expected !== current.metadata?.resourceVersion) {
      throw apiError(409, { kind: 'Status', reason: 'Conflict', code: 409 });
    }
    const stored = this.#withResourceVersion(body);
    this.objects.set(key, stored);
    return stored;
  }

  #withResourceVersion(body: unknown): unknown {
    const object = structuredClone(body) as { metadata: Record<string, unknown> };
    object.metadata = { ...object.metadata, resourceVersion: String(++this.#resourceVersion) };
    return object;
  }

  async delete(type: ResourceType, location: ObjectLocation, options?: DeleteOptions): Promise<boolean> {
    await this.#record({ verb: 'delete', plural: type.plural, namespace: location.namespace, name: location.name, options });
    this.objects.delete(FakeKubeClient.key(type.plural, location.namespace, location.name));
    return true;
  }

  async discover(apiVersion: string): Promise<string[] | undefined> {
    await this.#record({ verb: 'discover', apiVersion });
    return this.served.get(apiVersion);
  }
}
