// Kubernetes Events about an object, recorded together with the matching log line in one call
// (Flagger style), so a message that reaches `kubectl describe` always reaches the log too.
// Meant for transitions and errors, not for every pass; a repeat of the same event within the dedupe
// window is logged but not recorded again, so a retrying error does not flood the namespace.
import { systemClock, toMicroTime, type Clock } from './clock.ts';
import type { KubeClient } from '../kube/client.ts';
import type { Logger } from './logging.ts';
import { EVENT } from '../kube/resources.ts';

export type EventType = 'Normal' | 'Warning';

/** The object an event is about (its `regarding`). */
export interface EventSubject {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid: string;
  resourceVersion?: string | undefined;
}

export interface EventDetails {
  /** CamelCase, e.g. "OwnershipConflict". */
  reason: string;
  message: string;
  /** What was done or attempted, e.g. "Reconcile", "Apply", "Prune". Defaults to "Reconcile". */
  action?: string;
  /** Extra structured fields for the log line only. */
  fields?: Record<string, unknown>;
  error?: unknown;
}

export interface EventRecorder {
  /** Logs at info and records a Normal event. Never throws; the API call runs in the background. */
  normal(subject: EventSubject, log: Logger, details: EventDetails): void;
  /** Logs at warn and records a Warning event. Never throws; the API call runs in the background. */
  warning(subject: EventSubject, log: Logger, details: EventDetails): void;
  /** Resolves when every event write started so far has finished (for shutdown and tests). */
  flush(): Promise<void>;
}

export interface EventRecorderOptions {
  client: KubeClient;
  /** A qualified name, e.g. "experiments.sms-app.io/sms-experiment-operator". */
  reportingController: string;
  /** This replica, e.g. the leader-election identity (at most 128 characters). */
  reportingInstance: string;
  /** Logs failures to write an event (they are never fatal). */
  logger: Logger;
  clock?: Clock;
  dedupeWindowMs?: number;
}

const NOTE_LIMIT_BYTES = 1024;
const DEDUPE_SWEEP_THRESHOLD = 1_000;

export function createEventRecorder({
  client,
  reportingController,
  reportingInstance,
  logger,
  clock = systemClock,
  dedupeWindowMs = 10 * 60_000,
}: EventRecorderOptions): EventRecorder {
  const lastRecordedAt = new Map<string, number>();
  const inFlight = new Set<Promise<void>>();
  let sequence = 0;

  function isRepeat(key: string, now: number): boolean {
    const last = lastRecordedAt.get(key);
    if (last !== undefined && now - last < dedupeWindowMs) return true;
    lastRecordedAt.set(key, now);
    if (lastRecordedAt.size > DEDUPE_SWEEP_THRESHOLD) {
      for (const [staleKey, at] of lastRecordedAt) if (now - at >= dedupeWindowMs) lastRecordedAt.delete(staleKey);
    }
    return false;
  }

  function record(type: EventType, subject: EventSubject, log: Logger, details: EventDetails): void {
    const fields = { ...details.fields, reason: details.reason, eventType: type, ...(details.error ? { err: details.error } : {}) };
    if (type === 'Warning') log.warn(fields, details.message);
    else log.info(fields, details.message);

    const now = clock.now();
    const dedupeKey = [subject.uid, type, details.reason, details.message].join('\u0000');
    // The repeat window is a duration: elapsed time, not the wall clock (which can be stepped).
    if (isRepeat(dedupeKey, clock.monotonic())) return;

    // Unique per process and time, like client-go's "<name>.<unix nanos in hex>".
    const suffix = (BigInt(now) * 1_000_000n + BigInt(sequence++ % 1_000_000)).toString(16);
    const body = {
      apiVersion: EVENT.apiVersion,
      kind: EVENT.kind,
      metadata: { name: `${subject.name}.${suffix}`, namespace: subject.namespace },
      eventTime: toMicroTime(now),
      type,
      reason: details.reason,
      action: details.action ?? 'Reconcile',
      note: truncateUtf8(details.message, NOTE_LIMIT_BYTES),
      reportingController,
      reportingInstance,
      regarding: {
        apiVersion: subject.apiVersion,
        kind: subject.kind,
        namespace: subject.namespace,
        name: subject.name,
        uid: subject.uid,
        ...(subject.resourceVersion ? { resourceVersion: subject.resourceVersion } : {}),
      },
    };
    const write = client
      .create(EVENT, subject.namespace, body)
      .then(() => undefined)
      .catch((error: unknown) => {
        // Let the next occurrence try again instead of being deduplicated against a lost event.
        lastRecordedAt.delete(dedupeKey);
        logger.warn({ err: error, namespace: subject.namespace, name: subject.name, reason: details.reason }, 'Failed to record event');
      })
      .finally(() => inFlight.delete(write));
    inFlight.add(write);
  }

  return {
    normal: (subject, log, details) => record('Normal', subject, log, details),
    warning: (subject, log, details) => record('Warning', subject, log, details),
    async flush() {
      await Promise.all(inFlight);
    },
  };
}

function truncateUtf8(text: string, limitBytes: number): string {
  if (Buffer.byteLength(text) <= limitBytes) return text;
  let end = Math.min(text.length, limitBytes);
  while (end > 0 && Buffer.byteLength(text.slice(0, end)) > limitBytes - 3) end--;
  return `${text.slice(0, end)}...`;
}
