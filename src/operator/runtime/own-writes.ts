// The watch event of the reconciler's own write tells it nothing: the pass that wrote the object
// read that very state in the write's response. Recording the resourceVersion each response
// carried lets the informers cache such an event without enqueueing a pass for it, so 500
// experiments created at once do not cost 10,000 passes that find nothing to do. Any other event
// (someone else's write, the controller-manager's status, a delete) enqueues as before.
export class OwnWrites {
  /** `kind/namespace/name` → the resourceVersion of our last write's response. */
  readonly #versions = new Map<string, string>();

  static #key(kind: string, namespace: string, name: string): string {
    return `${kind}/${namespace}/${name}`;
  }

  record(kind: string, object: { namespace: string; name: string; resourceVersion?: string | undefined }): void {
    if (object.resourceVersion === undefined) return;
    this.#versions.set(OwnWrites.#key(kind, object.namespace, object.name), object.resourceVersion);
  }

  /**
   * True when an added or updated object is exactly our last write (consumed: a later event of the
   * same version, e.g. after a relist, enqueues). An event of another version drops the record:
   * if it is newer, our write's echo has come and gone; if older, the echo still to come enqueues a
   * pass. Either way the worst case is a pass too many, never a change left unseen. The informers
   * ask it of deletes too (and enqueue them regardless), so no record outlives its object.
   */
  isEcho(kind: string, metadata: { namespace: string; name: string; resourceVersion?: string | undefined }): boolean {
    const key = OwnWrites.#key(kind, metadata.namespace, metadata.name);
    const written = this.#versions.get(key);
    if (written === undefined) return false;
    this.#versions.delete(key);
    return written === metadata.resourceVersion;
  }

  /** Records held: at most one per object written and not yet seen again. */
  get size(): number {
    return this.#versions.size;
  }
}
