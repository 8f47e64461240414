// Which Events a pass records: one per condition transition that tells something new, Warning only
// for bad news, and none that would repeat the Warning a failure records of its own. What is left out
// says nothing Ready's own event or the status does not: Progressing moving in the same pass as
// Ready (the rollout started or finished), and a new experiment's healthy starting state (Ready
// False while its pods start or its traffic is held, Progressing True, Degraded False): `kubectl get
// smsx` shows that at once, and the first news is Ready becoming True or something going wrong.
// Each event is an API write (500 experiments created at once: 500 writes that repeat the status),
// and `kubectl describe` reads better without echoes.
import type { SmsExperimentStatus } from '../../crd/schema.ts';
import type { ObjectWriteError, OwnershipConflictError } from '../apply/applier.ts';
import type { EventDetails, EventType } from '../runtime/events.ts';
import { ConditionType, conditionTransitions, Reason } from './conditions.ts';

export interface PlannedEvent {
  type: EventType;
  details: EventDetails;
}

/**
 * Events for the transitions between two statuses. `failureReason` names a failure the pass
 * records a Warning of its own for: transitions to it would only repeat that.
 */
export function transitionEvents(
  previous: SmsExperimentStatus | undefined,
  status: SmsExperimentStatus,
  failureReason: string | undefined,
): PlannedEvent[] {
  const events: PlannedEvent[] = [];
  const transitions = conditionTransitions(previous?.conditions, status.conditions ?? []);
  const readyMoved = transitions.some(({ type }) => type === ConditionType.Ready);
  for (const { type, from, to } of transitions) {
    if (to.reason === failureReason) continue;
    const bad = isBadNews(type, from, to.status, to.reason);
    // A new experiment's first news is Ready becoming True; later, anything but Progressing moving with Ready.
    const news = from === undefined ? type === ConditionType.Ready && to.status === 'True' : !(type === ConditionType.Progressing && readyMoved);
    if (!bad && !news) continue;
    const details = { reason: to.reason, message: `${type} is ${to.status}: ${to.message}`, fields: { condition: type, from: from ?? 'none', to: to.status } };
    events.push({ type: bad ? 'Warning' : 'Normal', details });
  }
  return events;
}

/** The Warning a failed apply or prune records, whether or not a condition changes. */
export function failureEvent(failure: OwnershipConflictError | ObjectWriteError): PlannedEvent {
  return { type: 'Warning', details: { reason: failure.reason, message: failure.message, action: failure.reason === 'PruneFailed' ? 'Prune' : 'Apply' } };
}

/**
 * A Warning for Degraded becoming True and for Ready becoming False because something failed or
 * broke; a fresh experiment whose pods are still starting is not bad news.
 */
function isBadNews(type: string, from: string | undefined, to: string, reason: string): boolean {
  if (type === 'Degraded') return to === 'True';
  if (type === 'Ready') return to === 'False' && (from === 'True' || (reason !== Reason.DeploymentsNotReady && reason !== Reason.TrafficHeld));
  return false;
}
