// A small JSON client for the few verbs the operator needs, built on client-node's own transport
// (KubeConfig authentication, TLS dispatcher, undici fetch), so it honours every kubeconfig the
// generated clients honour.
//
// Why not KubernetesObjectApi: it has no subresource support (status apply), it runs built-in kinds
// through the generated models (unknown fields silently dropped, timestamps turned into Date objects
// that then differ from what the watch delivers), and it needs a discovery request per API version.
// Here bodies go out and come back as plain JSON; callers parse what they read with zod.
import {
  ApiException,
  createConfiguration,
  HttpMethod,
  ServerConfiguration,
  KubeConfig,
  type Configuration,
  type RequestContext,
} from '@kubernetes/client-node';
import { z } from 'zod';
import { resourcePath, type ResourceType } from './resources.ts';

export const APPLY_PATCH_CONTENT_TYPE = 'application/apply-patch+yaml';

/**
 * Accept headers that make the API server send only each object's metadata (PartialObjectMetadata),
 * for any kind: what a watch that only needs names and owners asks for (client-go's metadata client).
 */
export const METADATA_LIST_ACCEPT = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1';
export const METADATA_WATCH_ACCEPT = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1';

/** undici's Dispatcher, as client-node's request context holds it (undici is not a dependency of ours). */
type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

/** How long one pooled undici Agent serves requests before the next request's Agent replaces it. */
export const DISPATCHER_MAX_AGE_MS = 5 * 60_000;

export interface ObjectLocation {
  /** Ignored for cluster-scoped types (pass ''). */
  namespace: string;
  name: string;
}

export interface ApplyOptions {
  fieldManager: string;
  force: boolean;
  /** "status" applies to the status subresource. */
  subresource?: 'status';
}

export interface DeleteOptions {
  /** Delete only if the object still has this uid (it may have been recreated meanwhile). */
  uid?: string;
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
}

export interface ListResult {
  items: unknown[];
  metadata: { resourceVersion?: string | undefined };
}

export interface ListOptions extends RequestOptions {
  labelSelector?: string;
  /** Items carry only their metadata (kind PartialObjectMetadata): far less to send and to parse. */
  metadataOnly?: boolean;
}

/** Per-request options of reads and the Lease writes. */
export interface RequestOptions {
  /**
   * Aborts the request (connect, TLS, headers and body alike): a caller with a deadline of its own,
   * such as a leader's renewal, passes one shorter than the client's request timeout.
   */
  signal?: AbortSignal;
}

/** The operator's view of the API server. Reads return raw JSON: parse it at the call site. */
export interface KubeClient {
  /** Resolves undefined when the object does not exist. */
  get(type: ResourceType, location: ObjectLocation, options?: RequestOptions): Promise<unknown>;
  list(type: ResourceType, namespace: string | undefined, options?: ListOptions): Promise<ListResult>;
  apply(type: ResourceType, body: { metadata: ObjectLocation }, options: ApplyOptions): Promise<unknown>;
  create(type: ResourceType, namespace: string, body: unknown, options?: { fieldManager?: string } & RequestOptions): Promise<unknown>;
  replace(type: ResourceType, location: ObjectLocation, body: unknown, options?: { fieldManager?: string } & RequestOptions): Promise<unknown>;
  /** Resolves false when the object was already gone (404) or had another uid (409). */
  delete(type: ResourceType, location: ObjectLocation, options?: DeleteOptions): Promise<boolean>;
  /**
   * Discovery of one group/version ("apps/v1", "v1"): the plural names of the resources it serves,
   * or undefined when the API server does not serve that group/version at all.
   */
  discover(apiVersion: string, options?: RequestOptions): Promise<string[] | undefined>;
}

const statusCauseSchema = z.looseObject({
  type: z.string().optional(),
  message: z.string().optional(),
  field: z.string().optional(),
});

/** The metav1.Status body the API server sends with a failed request. */
export const apiStatusSchema = z.looseObject({
  kind: z.literal('Status'),
  message: z.string().optional(),
  reason: z.string().optional(),
  code: z.number().optional(),
  details: z.looseObject({ causes: z.array(statusCauseSchema).optional() }).optional(),
});
export type ApiStatus = z.output<typeof apiStatusSchema>;

export function isApiError(error: unknown, code?: number): error is ApiException<unknown> {
  return error instanceof ApiException && (code === undefined || error.code === code);
}

/** The Status body of a failed API request, when the server sent one. */
export function apiStatusOf(error: unknown): ApiStatus | undefined {
  if (!(error instanceof ApiException)) return undefined;
  const parsed = apiStatusSchema.safeParse(error.body);
  return parsed.success ? parsed.data : undefined;
}

/** An explicit kubeconfig file, or else the default chain: $KUBECONFIG, ~/.kube/config, in-cluster. */
export function loadKubeConfig(kubeconfigPath: string | undefined): KubeConfig {
  const kubeConfig = new KubeConfig();
  if (kubeconfigPath !== undefined) kubeConfig.loadFromFile(kubeconfigPath);
  else kubeConfig.loadFromDefault();
  return kubeConfig;
}

export interface KubeClientOptions {
  /** Upper bound on one request, so a hung API server turns into an error and a retry. */
  requestTimeoutMs?: number;
}

export function createKubeClient(kubeConfig: KubeConfig, options: KubeClientOptions = {}): KubeClient {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('The kubeconfig has no current cluster');
  const configuration: Configuration = createConfiguration({
    baseServer: new ServerConfiguration(cluster.server, {}),
    authMethods: { default: kubeConfig },
  });
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;

  // client-node's applySecurityAuthentication builds a new undici Agent for every request, so no
  // connection is ever reused: each request pays a TLS handshake and leaves a keep-alive socket
  // behind (measured: 300–400 sockets open while 100 experiments converge, and their TLS buffers
  // stay in the malloc heap). One Agent serves every request instead, with connections pooled per
  // origin. It is renewed every few minutes, from the Agent of the request at hand, so TLS material
  // an authenticator rotates (e.g. an exec plugin's client certificate) is picked up within that time.
  let shared: { dispatcher: Dispatcher; since: number } | undefined;
  const sharedDispatcher = (fresh: Dispatcher | undefined): Dispatcher | undefined => {
    if (fresh === undefined) return undefined;
    const now = performance.now();
    if (shared === undefined || now - shared.since >= DISPATCHER_MAX_AGE_MS) {
      // close() lets requests in flight on the old Agent finish.
      void shared?.dispatcher.close().catch(() => undefined);
      shared = { dispatcher: fresh, since: now };
    } else if (fresh !== shared.dispatcher) {
      void fresh.close().catch(() => undefined);
    }
    return shared.dispatcher;
  };

  async function request(
    method: HttpMethod,
    path: string,
    init: { query?: Record<string, string | undefined>; body?: unknown; contentType?: string; accept?: string; signal?: AbortSignal | undefined } = {},
  ): Promise<{ status: number; body: unknown }> {
    const context = configuration.baseServer.makeRequestContext(path, method);
    context.setHeaderParam('Accept', init.accept ?? 'application/json');
    for (const [name, value] of Object.entries(init.query ?? {})) {
      if (value !== undefined) context.setQueryParam(name, value);
    }
    if (init.body !== undefined) {
      context.setHeaderParam('Content-Type', init.contentType ?? 'application/json');
      context.setBody(JSON.stringify(init.body));
    }
    const timeout = AbortSignal.timeout(requestTimeoutMs);
    context.setSignal(init.signal ? AbortSignal.any([timeout, init.signal]) : timeout);
    await kubeConfig.applySecurityAuthentication(context);
    const dispatcher = sharedDispatcher(context.getDispatcher());
    if (dispatcher) context.setDispatcher(dispatcher);
    const response = await configuration.httpApi.send(context).toPromise();
    const text = await response.body.text();
    const body = parseJson(text);
    if (response.httpStatusCode >= 200 && response.httpStatusCode < 300) {
      return { status: response.httpStatusCode, body };
    }
    const status = apiStatusSchema.safeParse(body);
    const message = status.success && status.data.message ? status.data.message : `HTTP ${response.httpStatusCode}`;
    throw new ApiException<unknown>(
      response.httpStatusCode,
      `${method} ${path} failed: ${message}`,
      body,
      response.headers,
    );
  }

  return {
    async get(type, location, getOptions = {}) {
      try {
        return (await request(HttpMethod.GET, resourcePath(type, location), { signal: getOptions.signal })).body;
      } catch (error) {
        if (isApiError(error, 404)) return undefined;
        throw error;
      }
    },

    async list(type, namespace, listOptions = {}) {
      const { body } = await request(HttpMethod.GET, resourcePath(type, { namespace }), {
        query: { labelSelector: listOptions.labelSelector },
        ...(listOptions.metadataOnly === true ? { accept: METADATA_LIST_ACCEPT } : {}),
        signal: listOptions.signal,
      });
      return listResultSchema.parse(body);
    },

    async apply(type, body, applyOptions) {
      const path = resourcePath(type, { ...body.metadata, subresource: applyOptions.subresource });
      const response = await request(HttpMethod.PATCH, path, {
        query: { fieldManager: applyOptions.fieldManager, force: String(applyOptions.force) },
        body,
        // JSON is valid YAML, so the apply-patch content type takes the JSON body as is.
        contentType: APPLY_PATCH_CONTENT_TYPE,
      });
      return response.body;
    },

    async create(type, namespace, body, createOptions = {}) {
      const response = await request(HttpMethod.POST, resourcePath(type, { namespace }), {
        query: { fieldManager: createOptions.fieldManager },
        body,
        signal: createOptions.signal,
      });
      return response.body;
    },

    async replace(type, location, body, replaceOptions = {}) {
      const response = await request(HttpMethod.PUT, resourcePath(type, location), {
        query: { fieldManager: replaceOptions.fieldManager },
        body,
        signal: replaceOptions.signal,
      });
      return response.body;
    },

    async delete(type, location, deleteOptions = {}) {
      try {
        await request(HttpMethod.DELETE, resourcePath(type, location), {
          body: {
            apiVersion: 'v1',
            kind: 'DeleteOptions',
            propagationPolicy: deleteOptions.propagationPolicy ?? 'Background',
            ...(deleteOptions.uid ? { preconditions: { uid: deleteOptions.uid } } : {}),
          },
        });
        return true;
      } catch (error) {
        if (isApiError(error, 404) || isApiError(error, 409)) return false;
        throw error;
      }
    },

    async discover(apiVersion, discoverOptions = {}) {
      const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
      try {
        const { body } = await request(HttpMethod.GET, path, { signal: discoverOptions.signal });
        return apiResourceListSchema.parse(body).resources.map((resource) => resource.name);
      } catch (error) {
        if (isApiError(error, 404)) return undefined;
        throw error;
      }
    },
  };
}

const apiResourceListSchema = z.looseObject({
  resources: z.array(z.looseObject({ name: z.string() })).nullable().transform((resources) => resources ?? []),
});

const listResultSchema = z.looseObject({
  items: z.array(z.unknown()).nullable().transform((items) => items ?? []),
  metadata: z.looseObject({ resourceVersion: z.string().optional() }).prefault({}),
});

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
