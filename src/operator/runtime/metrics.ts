// Prometheus metrics on the operator's own registry (never prom-client's global one, so tests and
// several operators in one process do not collide).
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export type ReconcileResult = 'success' | 'error' | 'requeue';

export interface OperatorMetrics {
  readonly registry: Registry;
  /** Counts one finished reconcile; `errorReason` (a condition reason such as ApplyFailed) for errors. */
  observeReconcile(result: ReconcileResult, durationSeconds: number, errorReason?: string): void;
  /** Counts a failure that is not a whole failed reconcile (e.g. a status write), by reason. */
  countError(reason: string): void;
  informerRestarted(kind: string): void;
  /** Reads the queue depth at scrape time. */
  trackQueueDepth(read: () => number): void;
  /** Counts one request of the operator's API client (writes and reads; watches are counted by informers). */
  countApiRequest(verb: string, resource: string, code: number): void;
  /** 1 while this replica may reconcile (it holds the Lease, or runs without leader election). */
  setLeading(leading: boolean): void;
  /** Counts one condition transition written to an experiment's status (Degraded=True RolloutStalled, …). */
  countConditionTransition(condition: string, status: string, reason: string): void;
  /** The latest judgement of one signal of an experiment: its anytime-valid p-value and its ratio (-1: undefined). */
  setAnalysis(namespace: string, name: string, signal: string, pValue: number, ratio: number): void;
  /** Progressive delivery: the run's step, canary weight and phase (Shadowing, Progressing, …), and one count per step outcome. */
  setProgression(namespace: string, name: string, step: number, canaryWeight: number, phase: string): void;
  countProgression(outcome: string): void;
  /** The experiment's conditions as the reconciler computed them on its latest pass (one series per condition, with its status). */
  setConditions(namespace: string, name: string, conditions: ReadonlyArray<{ type: string; status: string }>): void;
  /** Drops every per-experiment series of an experiment that is gone. */
  forgetExperiment(namespace: string, name: string): void;
}

export interface MetricsOptions {
  now?: () => number;
  /** Process metrics (CPU, memory, event-loop lag, handles); off in unit tests to keep them quiet. */
  processMetrics?: boolean;
  prefix?: string;
}

export function createMetrics({ now = () => performance.now(), processMetrics = true, prefix = 'smsx_operator_' }: MetricsOptions = {}): OperatorMetrics {
  const registry = new Registry();
  if (processMetrics) collectDefaultMetrics({ register: registry });

  const reconciles = new Counter({
    name: `${prefix}reconcile_total`,
    help: 'Reconciles of SmsExperiments by result',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const errors = new Counter({
    name: `${prefix}reconcile_errors_total`,
    help: 'Reconcile errors by reason',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: `${prefix}reconcile_duration_seconds`,
    help: 'Duration of one reconcile of an SmsExperiment',
    // Fine below 100 ms, where a no-op pass and a patch-to-VirtualService round trip live.
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const informerRestarts = new Counter({
    name: `${prefix}informer_restarts_total`,
    help: 'Restarts of a watch after an error, by kind',
    labelNames: ['kind'] as const,
    registers: [registry],
  });

  const apiRequests = new Counter({
    name: `${prefix}api_requests_total`,
    help: 'Requests of the operator to the API server by verb, resource and HTTP status code (0: no answer)',
    labelNames: ['verb', 'resource', 'code'] as const,
    registers: [registry],
  });

  const leading = new Gauge({
    name: `${prefix}leader`,
    help: '1 while this replica leads (holds the Lease, or runs without leader election) and may reconcile, else 0',
    registers: [registry],
  });
  leading.set(0);

  const transitions = new Counter({
    name: `${prefix}condition_transitions_total`,
    help: 'Condition transitions written to SmsExperiment statuses, by condition, new status and reason',
    labelNames: ['condition', 'status', 'reason'] as const,
    registers: [registry],
  });

  const analysisPValue = new Gauge({
    name: `${prefix}analysis_p_value`,
    help: 'Anytime-valid p-value of the latest judgement per experiment and signal (shadow-lean: the shadow lean test)',
    labelNames: ['namespace', 'experiment', 'signal'] as const,
    registers: [registry],
  });
  const analysisRatio = new Gauge({
    name: `${prefix}analysis_ratio`,
    help: 'Canary/stable event-rate ratio per experiment and signal (shadow-lean: the agreement rate); -1 when undefined',
    labelNames: ['namespace', 'experiment', 'signal'] as const,
    registers: [registry],
  });

  const progressionStep = new Gauge({
    name: `${prefix}progression_step`,
    help: 'Progressive delivery: the current step per experiment (0 while the shadow is judged)',
    labelNames: ['namespace', 'experiment'] as const,
    registers: [registry],
  });
  const progressionWeight = new Gauge({
    name: `${prefix}progression_canary_weight`,
    help: 'Progressive delivery: the canary weight the run drives per experiment',
    labelNames: ['namespace', 'experiment'] as const,
    registers: [registry],
  });
  const progressionPhase = new Gauge({
    name: `${prefix}progression_phase`,
    help: 'Progressive delivery: 1 for the phase each experiment\'s run is in (Shadowing, Progressing, Paused, Halted, Promoted, RolledBack, Aborted, ShadowRejected)',
    labelNames: ['namespace', 'experiment', 'phase'] as const,
    registers: [registry],
  });
  const experimentCondition = new Gauge({
    name: `${prefix}experiment_condition`,
    help: 'Conditions of each experiment (Ready, Progressing, Degraded): 1 for the status the condition has now, as kube-state-metrics exports them',
    labelNames: ['namespace', 'experiment', 'condition', 'status'] as const,
    registers: [registry],
  });
  // The label sets last set per experiment, so a change removes the old series instead of leaving it at 1.
  const conditionSeries = new Map<string, Array<Record<'namespace' | 'experiment' | 'condition' | 'status', string>>>();
  const phaseSeries = new Map<string, Record<'namespace' | 'experiment' | 'phase', string>>();
  const analysisSeries = new Map<string, Set<string>>();
  const progressionOutcomes = new Counter({
    name: `${prefix}progression_outcomes_total`,
    help: 'Progressive delivery: runs started and steps ended, by outcome (RunStarted, StepAdvanced, ShadowPassed, Promoted, RolledBack, Halted, Held, Paused, Resumed, Aborted, ShadowRejected, WeightsEdited, RequestIgnored)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });

  let readQueueDepth: () => number = () => 0;
  new Gauge({
    name: `${prefix}workqueue_depth`,
    help: 'Experiments waiting in the work queue',
    registers: [registry],
    collect() {
      this.set(readQueueDepth());
    },
  });

  // Counted from start until the first success, so "age above N" alerts on an operator that never
  // succeeds as well as on one that stopped succeeding.
  let lastSuccessAt = now();
  new Gauge({
    name: `${prefix}last_successful_sync_age_seconds`,
    help: 'Seconds since the last successful reconcile (since start before the first one)',
    registers: [registry],
    collect() {
      // Computed at scrape time so the age keeps growing while nothing succeeds.
      this.set((now() - lastSuccessAt) / 1_000);
    },
  });

  // Pre-create the label values we know, so rates exist (as 0) before the first event.
  for (const result of ['success', 'error', 'requeue'] as const) reconciles.inc({ result }, 0);

  return {
    registry,
    observeReconcile(result, durationSeconds, errorReason) {
      reconciles.inc({ result });
      duration.observe(durationSeconds);
      if (result === 'error') errors.inc({ reason: errorReason ?? 'Unknown' });
      else lastSuccessAt = now();
    },
    countError(reason) {
      errors.inc({ reason });
    },
    informerRestarted(kind) {
      informerRestarts.inc({ kind });
    },
    trackQueueDepth(read) {
      readQueueDepth = read;
    },
    countApiRequest(verb, resource, code) {
      apiRequests.inc({ verb, resource, code: String(code) });
    },
    setLeading(isLeading) {
      leading.set(isLeading ? 1 : 0);
    },
    countConditionTransition(condition, status, reason) {
      transitions.inc({ condition, status, reason });
    },
    setAnalysis(namespace, experiment, signal, pValue, ratio) {
      const signals = analysisSeries.get(`${namespace}/${experiment}`) ?? new Set<string>();
      analysisSeries.set(`${namespace}/${experiment}`, signals.add(signal));
      analysisPValue.set({ namespace, experiment, signal }, pValue);
      analysisRatio.set({ namespace, experiment, signal }, ratio);
    },
    setProgression(namespace, experiment, step, canaryWeight, phase) {
      progressionStep.set({ namespace, experiment }, step);
      progressionWeight.set({ namespace, experiment }, canaryWeight);
      const key = `${namespace}/${experiment}`;
      const previous = phaseSeries.get(key);
      if (previous !== undefined && previous.phase !== phase) progressionPhase.remove(previous);
      const labels = { namespace, experiment, phase };
      progressionPhase.set(labels, 1);
      phaseSeries.set(key, labels);
    },
    setConditions(namespace, experiment, conditions) {
      const key = `${namespace}/${experiment}`;
      for (const labels of conditionSeries.get(key) ?? []) experimentCondition.remove(labels);
      const current = conditions.map(({ type, status }) => ({ namespace, experiment, condition: type, status }));
      for (const labels of current) experimentCondition.set(labels, 1);
      conditionSeries.set(key, current);
    },
    forgetExperiment(namespace, experiment) {
      const key = `${namespace}/${experiment}`;
      for (const labels of conditionSeries.get(key) ?? []) experimentCondition.remove(labels);
      conditionSeries.delete(key);
      const phase = phaseSeries.get(key);
      if (phase !== undefined) progressionPhase.remove(phase);
      phaseSeries.delete(key);
      progressionStep.remove({ namespace, experiment });
      progressionWeight.remove({ namespace, experiment });
      for (const signal of analysisSeries.get(key) ?? []) {
        analysisPValue.remove({ namespace, experiment, signal });
        analysisRatio.remove({ namespace, experiment, signal });
      }
      analysisSeries.delete(key);
    },
    countProgression(outcome) {
      progressionOutcomes.inc({ outcome });
    },
  };
}
