// The watch layer: one informer per kind and namespace on top of client-node's ListWatch, which
// re-lists on 410 and reconnects after a clean close but gives up after any other error. This wrapper
// restarts it with backoff, parses every object with zod once as it arrives, keeps the parsed cache
// the reconciler reads, and turns each event into the key of the experiment it concerns.
import { makeInformer, type Informer, type KubeConfig, type KubernetesObject, type ObjectCache } from '@kubernetes/client-node';
import type { z } from 'zod';
import { backoffDelay, systemClock, type BackoffPolicy, type CancelTimer, type Clock } from './clock.ts';
import { apiStatusOf, isApiError, METADATA_WATCH_ACCEPT, type KubeClient } from '../kube/client.ts';
import type { Logger } from './logging.ts';
import { liveMetadataSchema, type LiveObject } from '../kube/objects.ts';
import { releaseParsed } from '../kube/slim.ts';
import { resourcePath, typeKey, type ResourceType, type TypeRef } from '../kube/resources.ts';

export type LiveMetadata = LiveObject['metadata'];

export type InformerEvent = 'add' | 'update' | 'delete';

/**
 * A cached object: parsed, or kept with the reason it failed to parse (and as received, so that a
 * reconcile can still read, e.g., the status it last wrote).
 */
export type CacheEntry<T> =
  | { valid: true; object: T; metadata: LiveMetadata }
  | { valid: false; error: string; metadata: LiveMetadata; raw: unknown };

export type InformerFactory = (
  path: string,
  list: () => Promise<{ items: KubernetesObject[]; metadata?: { resourceVersion?: string } }>,
  labelSelector?: string,
) => Informer<KubernetesObject> & ObjectCache<KubernetesObject>;

export function clientNodeInformerFactory(kubeConfig: KubeConfig): InformerFactory {
  return (path, list, labelSelector) => makeInformer(kubeConfig, path, list, labelSelector);
}

/**
 * Informers whose watch asks for metadata only (PartialObjectMetadata), to pair with the
 * `metadataOnly` option. client-node's Watch has no header option of its own; it takes its headers
 * from the KubeConfig's authentication step, so a view of the KubeConfig adds the Accept header there.
 */
export function metadataOnlyInformerFactory(kubeConfig: KubeConfig): InformerFactory {
  const metadataOnly: KubeConfig = Object.create(kubeConfig) as KubeConfig;
  metadataOnly.applySecurityAuthentication = async (context) => {
    await kubeConfig.applySecurityAuthentication(context);
    context.setHeaderParam('Accept', METADATA_WATCH_ACCEPT);
  };
  return (path, list, labelSelector) => makeInformer(metadataOnly, path, list, labelSelector);
}

export interface ResourceInformerOptions<T> {
  type: ResourceType;
  /** undefined watches every namespace (and is the only choice for a cluster-scoped type). */
  namespace: string | undefined;
  labelSelector?: string;
  /**
   * Lists ask for metadata only; the watch must too, through metadataOnlyInformerFactory. Objects
   * arrive as PartialObjectMetadata, stamped with this type's apiVersion and kind like list items.
   */
  metadataOnly?: boolean;
  /** Parses each object as it arrives; a failure keeps the entry as invalid instead of dropping it. */
  schema: z.ZodType<T>;
  /**
   * The schema only validates (no defaults, no transforms), so a valid object is already a T: cache
   * the object client-node holds instead of zod's deep copy, and every object is held once, not
   * twice. Owned kinds are most of the cache (21 objects an experiment, managedFields included).
   */
  cacheReceivedObjects?: boolean;
  /**
   * Shrinks each received object in place before anything reads or caches it (kube/slim.ts), e.g.
   * to what the reconciler reads. In place, because client-node's ListWatch keeps the very object
   * it hands over: a slimmed copy would leave the full one in its cache.
   */
  slim?: (object: KubernetesObject) => unknown;
  /**
   * After a successful parse by a copying schema, shrink the received object (the one the ListWatch
   * keeps) to its identity (kube/slim.ts releaseParsed), so the object is held once, as parsed. An
   * object that fails its schema keeps everything: the reconciler still reads its status from it.
   */
  releaseAfterParse?: boolean;
  /**
   * Maps an object to the work-queue keys to enqueue (none, one, or several, e.g. every experiment
   * of a Namespace whose labels changed).
   */
  keysOf: (object: { metadata: LiveMetadata }) => string | readonly string[] | undefined;
  /**
   * A label whose values index the cache (listByLabel): a pass reads its own experiment's objects
   * without walking every object of the namespace, which made each pass cost O(all experiments).
   */
  indexLabel?: string;
  /**
   * True for an object that is exactly the operator's own last write (runtime/own-writes.ts). Asked
   * of every event, so a delete clears the record too; an add or update it is true for is cached
   * and enqueues nothing.
   */
  isOwnWrite?: (metadata: LiveMetadata) => boolean;
  /** Must only enqueue: informer callbacks are synchronous and run on the watch stream. */
  enqueue: (key: string) => void;
  client: KubeClient;
  makeInformer: InformerFactory;
  logger: Logger;
  onRestart?: (kind: string) => void;
  /**
   * Called when a watch works again after failures. Unchanged objects produce no events on a
   * resumed watch, so this is the moment to re-enqueue keys that backed off during the outage.
   */
  onRecovered?: (kind: string) => void;
  clock?: Clock;
  backoff?: BackoffPolicy;
}

// Capped low on purpose: the watch restart is what notices a recovered API server (and then
// re-queues every experiment), so the cap bounds how long an edit made after an outage waits. A
// retry every 5 s per watch is still a trickle for a server that refuses connections or sends 429s.
export const DEFAULT_WATCH_BACKOFF: BackoffPolicy = { baseMs: 250, capMs: 5_000 };

export class ResourceInformer<T> {
  readonly type: ResourceType;
  readonly namespace: string | undefined;
  readonly #options: ResourceInformerOptions<T>;
  readonly #clock: Clock;
  readonly #backoff: BackoffPolicy;
  readonly #logger: Logger;
  readonly #entries = new Map<string, CacheEntry<T>>();
  /** `namespace/value of indexLabel` → the cache keys of the entries carrying it. */
  readonly #byLabel = new Map<string, Set<string>>();
  #informer: (Informer<KubernetesObject> & ObjectCache<KubernetesObject>) | undefined;
  #listed = false;
  #synced = false;
  #stopped = true;
  #failures = 0;
  #lastError: string | undefined;
  #failedDuringStart = false;
  #cancelRestart: CancelTimer | undefined;

  constructor(options: ResourceInformerOptions<T>) {
    this.#options = options;
    this.type = options.type;
    this.namespace = options.namespace;
    this.#clock = options.clock ?? systemClock;
    this.#backoff = options.backoff ?? DEFAULT_WATCH_BACKOFF;
    this.#logger = options.logger.child({ kind: options.type.kind, watchNamespace: options.namespace ?? '*' });
  }

  /** Starts watching in the background; errors restart the watch, they never reach the caller. */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#informer ??= this.#createInformer();
    void this.#run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#cancelRestart?.();
    this.#cancelRestart = undefined;
    await this.#informer?.stop();
  }

  /** True once the first full list reached the cache: until then a miss means nothing. */
  hasSynced(): boolean {
    return this.#synced;
  }

  /** Describes the watch, e.g. "Deployment in team-a", for readiness messages. */
  describe(): string {
    return `${this.type.kind} in ${this.namespace ?? 'all namespaces'}`;
  }

  /** The last list or watch failure, e.g. "HTTP 403: … is forbidden: …"; undefined after success. */
  lastError(): string | undefined {
    return this.#lastError;
  }

  /** Cluster-scoped objects live under the namespace ''. */
  lookup(namespace: string, name: string): CacheEntry<T> | undefined {
    return this.#entries.get(`${namespace}/${name}`);
  }

  get(namespace: string, name: string): T | undefined {
    const entry = this.lookup(namespace, name);
    return entry?.valid ? entry.object : undefined;
  }

  /** Valid objects, optionally of one namespace. */
  list(namespace?: string): T[] {
    const objects: T[] = [];
    for (const entry of this.#entries.values()) {
      if (entry.valid && (namespace === undefined || entry.metadata.namespace === namespace)) objects.push(entry.object);
    }
    return objects;
  }

  /** Valid objects of the namespace whose indexLabel has this value; only for an informer with an indexLabel. */
  listByLabel(namespace: string, value: string): T[] {
    const label = this.#options.indexLabel;
    if (label === undefined) throw new Error(`the ${this.describe()} cache has no label index`);
    const objects: T[] = [];
    for (const cacheKey of this.#byLabel.get(`${namespace}/${value}`) ?? []) {
      const entry = this.#entries.get(cacheKey);
      if (entry?.valid) objects.push(entry.object);
    }
    return objects;
  }

  #unindex(cacheKey: string): void {
    const label = this.#options.indexLabel;
    const value = label === undefined ? undefined : this.#entries.get(cacheKey)?.metadata.labels?.[label];
    if (value === undefined) return;
    const indexKey = `${cacheKey.slice(0, cacheKey.indexOf('/'))}/${value}`;
    const keys = this.#byLabel.get(indexKey);
    keys?.delete(cacheKey);
    if (keys?.size === 0) this.#byLabel.delete(indexKey);
  }

  #index(cacheKey: string, metadata: LiveMetadata): void {
    const label = this.#options.indexLabel;
    const value = label === undefined ? undefined : metadata.labels?.[label];
    if (value === undefined) return;
    const indexKey = `${metadata.namespace}/${value}`;
    let keys = this.#byLabel.get(indexKey);
    if (keys === undefined) this.#byLabel.set(indexKey, (keys = new Set()));
    keys.add(cacheKey);
  }

  /** Every entry, valid or not: what a resync enqueues. */
  entries(): IterableIterator<CacheEntry<T>> {
    return this.#entries.values();
  }

  #createInformer(): Informer<KubernetesObject> & ObjectCache<KubernetesObject> {
    const { type, namespace, labelSelector, client, metadataOnly } = this.#options;
    const list = async () => {
      const result = await client.list(type, namespace, {
        ...(labelSelector === undefined ? {} : { labelSelector }),
        ...(metadataOnly === true ? { metadataOnly } : {}),
      });
      this.#listed = true;
      // Raw API JSON; each item is parsed by the event handlers below before anything reads it.
      // Items of built-in kinds come without apiVersion and kind (only watch events carry them), so
      // they are stamped from the list's type, as client-go does.
      // (Metadata-only items say "PartialObjectMetadata": #onObject stamps their type over that.)
      const items = result.items.map((item) => ({ apiVersion: type.apiVersion, kind: type.kind, ...(item as KubernetesObject) }));
      return { items, metadata: result.metadata };
    };
    const informer = this.#options.makeInformer(resourcePath(type, { namespace }), list, labelSelector);
    informer.on('add', (object) => this.#onObject('add', object));
    informer.on('update', (object) => this.#onObject('update', object));
    informer.on('delete', (object) => this.#onObject('delete', object));
    informer.on('error', (error: unknown) => this.#onError(error));
    return informer;
  }

  async #run(): Promise<void> {
    const informer = this.#informer;
    if (!informer || this.#stopped) return;
    this.#failedDuringStart = false;
    try {
      // Resolves once the list (if any) is in the cache and the watch is open, or after an error
      // the 'error' callback has already reported.
      await informer.start();
    } catch (error) {
      this.#onError(error);
      return;
    }
    if (this.#stopped || this.#failedDuringStart) return;
    if (this.#listed && !this.#synced) {
      this.#synced = true;
      this.#logger.debug('Synced cache');
    }
    this.#lastError = undefined;
    if (this.#failures > 0) {
      this.#logger.info({ failures: this.#failures }, 'Resumed watch');
      this.#failures = 0;
      this.#options.onRecovered?.(this.type.kind);
    }
  }

  #onError(error: unknown): void {
    if (this.#stopped) return;
    this.#failedDuringStart = true;
    this.#lastError = describeWatchError(error);
    if (this.#cancelRestart) return;
    this.#failures++;
    const retryInMs = backoffDelay(this.#failures, this.#backoff);
    this.#options.onRestart?.(this.type.kind);
    // One warning per outage: an API server restart fails every watch several times over.
    const level = this.#failures === 1 ? 'warn' : 'debug';
    // The server's one-line answer, not the exception: its stack and headers say nothing more, and
    // an API server that is still starting fails every watch at once.
    this.#logger[level]({ error: this.#lastError, retryInMs, failures: this.#failures }, 'Watch failed');
    this.#cancelRestart = this.#clock.setTimeout(() => {
      this.#cancelRestart = undefined;
      void this.#run();
    }, retryInMs);
  }

  #onObject(event: InformerEvent, received: KubernetesObject): void {
    // Listed and watched alike, metadata-only objects say "PartialObjectMetadata": they are of this type.
    if (this.#options.metadataOnly === true) Object.assign(received, { apiVersion: this.type.apiVersion, kind: this.type.kind });
    // A deleted object is not cached, so only additions and updates are worth slimming.
    if (event !== 'delete') this.#options.slim?.(received);
    // Cluster-scoped objects are cached under the namespace '' so one cache shape serves both scopes.
    const raw = this.type.namespaced ? received : { ...received, metadata: { ...received.metadata, namespace: '' } };
    const metadata = liveMetadataSchema.safeParse(raw.metadata);
    if (!metadata.success) {
      this.#logger.warn({ event, error: metadata.error.message }, 'Ignored object without namespaced metadata');
      return;
    }
    const cacheKey = `${metadata.data.namespace}/${metadata.data.name}`;
    // The label may have changed: the entry leaves its old index slot before it takes its new one.
    this.#unindex(cacheKey);
    if (event === 'delete') {
      this.#entries.delete(cacheKey);
    } else {
      const parsed = this.#options.schema.safeParse(raw);
      if (parsed.success) {
        const shared = this.#options.cacheReceivedObjects === true;
        this.#entries.set(cacheKey, {
          valid: true,
          // Sound only for a validation-only schema, which is what cacheReceivedObjects promises.
          object: shared ? (raw as T) : parsed.data,
          metadata: shared ? (raw.metadata as LiveMetadata) : metadata.data,
        });
        if (!shared && this.#options.releaseAfterParse === true) releaseParsed(received);
      } else {
        const error = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
        this.#entries.set(cacheKey, { valid: false, error, metadata: metadata.data, raw });
        this.#logger.warn({ namespace: metadata.data.namespace, name: metadata.data.name, error }, 'Cached object that failed validation');
      }
      this.#index(cacheKey, metadata.data);
    }
    const ownWrite = this.#options.isOwnWrite?.(metadata.data) === true;
    if (ownWrite && event !== 'delete') return;
    const keys = this.#options.keysOf({ metadata: metadata.data });
    if (typeof keys === 'string') this.#options.enqueue(keys);
    else for (const key of keys ?? []) this.#options.enqueue(key);
  }
}

/** One line for readiness messages: the status code when there is one, then the server's message. */
export function describeWatchError(error: unknown): string {
  if (isApiError(error)) {
    // ApiException's own message spans lines (code, message, body, headers): keep the server's words.
    const message = apiStatusOf(error)?.message ?? /^Message: (.*)$/m.exec(error.message)?.[1] ?? error.message;
    return `HTTP ${error.code}: ${message}`;
  }
  // client-node's Watch reports a refused watch as an Error whose message is the status text.
  const statusCode = (error as { statusCode?: unknown } | null)?.statusCode;
  const message = error instanceof Error ? error.message : String(error);
  return typeof statusCode === 'number' ? `HTTP ${statusCode}: ${message}` : message;
}

/** A watch without its first list, as /readyz and the sync-timeout log line name it. */
export interface UnsyncedWatch {
  kind: string;
  namespace: string;
  lastError: string | undefined;
}

/** The informers of several kinds and namespaces, read as one cache. */
export class InformerSet<T> {
  readonly #byType = new Map<string, Array<ResourceInformer<T>>>();
  readonly informers: ReadonlyArray<ResourceInformer<T>>;

  constructor(informers: ReadonlyArray<ResourceInformer<T>>) {
    this.informers = informers;
    for (const informer of informers) {
      const key = typeKey(informer.type);
      this.#byType.set(key, [...(this.#byType.get(key) ?? []), informer]);
    }
  }

  #informerFor(type: TypeRef, namespace: string): ResourceInformer<T> | undefined {
    return this.#byType.get(typeKey(type))?.find((informer) => informer.namespace === undefined || informer.namespace === namespace);
  }

  get(type: TypeRef, namespace: string, name: string): T | undefined {
    return this.#informerFor(type, namespace)?.get(namespace, name);
  }

  lookup(type: TypeRef, namespace: string, name: string): CacheEntry<T> | undefined {
    return this.#informerFor(type, namespace)?.lookup(namespace, name);
  }

  list(type: TypeRef, namespace: string): T[] {
    return this.#informerFor(type, namespace)?.list(namespace) ?? [];
  }

  listByLabel(type: TypeRef, namespace: string, value: string): T[] {
    return this.#informerFor(type, namespace)?.listByLabel(namespace, value) ?? [];
  }

  /** True when a watch of this type covers the namespace and has listed it: a miss is then an answer. */
  covers(type: TypeRef, namespace: string): boolean {
    return this.#informerFor(type, namespace)?.hasSynced() === true;
  }

  start(): void {
    for (const informer of this.informers) informer.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.informers.map((informer) => informer.stop()));
  }

  hasSynced(): boolean {
    return this.informers.every((informer) => informer.hasSynced());
  }

  /** The watches still waiting for their first list, with their last error, for /readyz. */
  unsynced(): string[] {
    return this.unsyncedWatches().map(({ kind, namespace, lastError }) =>
      `${kind} in ${namespace}${lastError === undefined ? '' : ` (last error: ${lastError})`}`,
    );
  }

  /**
   * One entry per kind and namespace: a kind watched twice (whole objects by label, and the rest as
   * metadata) fails both watches for one reason, e.g. RBAC without list, and is named once.
   */
  unsyncedWatches(): UnsyncedWatch[] {
    const byWatch = new Map<string, UnsyncedWatch>();
    for (const informer of this.informers) {
      if (informer.hasSynced()) continue;
      const watch = { kind: informer.type.kind, namespace: informer.namespace ?? 'all namespaces', lastError: informer.lastError() };
      const key = `${watch.kind}\u0000${watch.namespace}`;
      const seen = byWatch.get(key);
      if (seen === undefined) byWatch.set(key, watch);
      else seen.lastError ??= watch.lastError;
    }
    return [...byWatch.values()];
  }
}

/**
 * Re-enqueues every experiment every `periodMs`: the safety net that repairs anything a lost event
 * left behind. Cheap when nothing changed, because a pass that changes nothing writes nothing.
 * Returns a function that stops it.
 */
export function startPeriodicResync(options: {
  periodMs: number;
  keys: () => Iterable<string>;
  enqueue: (key: string) => void;
  clock?: Clock;
}): CancelTimer {
  const clock = options.clock ?? systemClock;
  if (options.periodMs <= 0) return () => undefined;
  let cancel: CancelTimer = () => undefined;
  let stopped = false;
  const tick = () => {
    if (stopped) return;
    for (const key of options.keys()) options.enqueue(key);
    cancel = clock.setTimeout(tick, options.periodMs);
  };
  cancel = clock.setTimeout(tick, options.periodMs);
  return () => {
    stopped = true;
    cancel();
  };
}
