// `kubectl smsx`: a kubectl plugin (bin/kubectl-smsx) that shows an experiment's progression — its
// steps, the evidence of the current one, what a person does next — and acts on the run. It talks
// through kubectl itself, so the user's kubeconfig, context and namespace work as for any kubectl
// command; the actions set the request annotation, which the operator's analysis loop acts on once
// (the annotation's nonce tells one request from the next).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { REQUEST_ACTIONS as ACTIONS, REQUEST_ANNOTATION, smsExperimentSchema, type RequestAction as Action, type SmsExperiment } from '../crd/schema.ts';
import { formatIssues } from '../crd/issues.ts';

const ACTION_HELP: Record<Action, string> = {
  pause: 'hold the run at its step (the weights stay)',
  resume: 'continue a Paused or Halted run (after a halt or a weight edit the step starts over)',
  abort: 'end the run: all traffic back to stable',
  skip: 'take the next step now, without the evidence (the shadow becomes the canary)',
  promote: 'promote now: all traffic to the canary, the analysis skipped',
  retry: 'start the run again after it ended (Promoted, RolledBack, Aborted, ShadowRejected)',
};

export const USAGE = `kubectl smsx: the progressive delivery of an SmsExperiment

Usage:
  kubectl smsx status NAME [flags]     the run: phase, steps, the current step's evidence, next action
  kubectl smsx ACTION NAME [flags]     act on the run; ACTION is one of:
${ACTIONS.map((action) => `      ${action.padEnd(9)}${ACTION_HELP[action]}`).join('\n')}

Flags (passed to kubectl):
  -n, --namespace NS    --context NAME    --kubeconfig FILE
Environment: KUBECTL names the kubectl binary (default kubectl).
`;

export type Command = { kind: 'help' } | { kind: 'status'; name: string; flags: string[] } | { kind: 'action'; action: Action; name: string; flags: string[] };

export class UsageError extends Error {}

const FLAGS_WITH_VALUE = new Set(['-n', '--namespace', '--context', '--kubeconfig']);

/** Parses the plugin's arguments; kubectl's flags are kept to pass on. */
export function parseArgs(args: readonly string[]): Command {
  const flags: string[] = [];
  const words: string[] = [];
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index] as string;
    if (arg === '-h' || arg === '--help' || arg === 'help') return { kind: 'help' };
    if (FLAGS_WITH_VALUE.has(arg)) {
      const value = args[index + 1];
      if (value === undefined || value.startsWith('-')) throw new UsageError(`${arg} needs a value`);
      flags.push(arg, value);
      index += 1;
    } else if (/^--(namespace|context|kubeconfig)=/.test(arg)) flags.push(arg);
    else if (arg.startsWith('-')) throw new UsageError(`unknown flag ${arg}`);
    else words.push(arg);
  }
  const [verb, name, ...extra] = words;
  if (verb === undefined) return { kind: 'help' };
  if (name === undefined) throw new UsageError(`${verb}: the experiment's NAME is missing`);
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  if (verb === 'status' || verb === 'get') return { kind: 'status', name, flags };
  if ((ACTIONS as readonly string[]).includes(verb)) return { kind: 'action', action: verb as Action, name, flags };
  throw new UsageError(`unknown command "${verb}"; one of status, ${ACTIONS.join(', ')}`);
}

const percent = (share: number) => `${(share * 100).toFixed(1)}%`;
const bound = (value: number | undefined) => (value === undefined || value < 0 ? '∞' : value === 0 ? '0' : value.toPrecision(3));

/** The run as text: what `kubectl smsx status` prints. */
export function formatStatus(experiment: SmsExperiment): string {
  const { namespace, name } = experiment.metadata;
  const rule = experiment.spec.analysis.progression;
  const lines: string[] = [`${namespace}/${name}`];
  const status = experiment.status;
  if (status?.weights) lines.push(`In effect: ${status.mode ?? '?'} mode, stable ${status.weights.stable}% / canary ${status.weights.canary}%${status.mode === 'shadow' ? `, mirror ${status.mirrorPercent ?? 0}%` : ''}`);
  if (rule === undefined) {
    lines.push('No progression: spec.analysis.progression is not set, the weights are spec.traffic.weights.');
    return lines.join('\n');
  }
  lines.push(`Steps: ${rule.steps.map((step) => `${step}%`).join(' → ')}${rule.fromShadow ? ' (after the shadow phase)' : ''}`);
  lines.push(`Gates: ${rule.gates.map((gate) => `${gate.signal} (margin ${percent(gate.margin)}, negligible below ${percent(gate.negligibleRate)})`).join(', ')}; at least ${rule.minCanaryRequests} canary requests a step, at most ${rule.maxStepDuration} (then ${rule.onMaxDuration})`);
  const run = status?.progression;
  if (run === undefined) {
    lines.push('Phase: not started (the operator starts the run at its next analysis round; it needs --prometheus-url)');
    return lines.join('\n');
  }
  lines.push(`Phase: ${run.phase}${run.pausedBy ? ` (${run.pausedBy})` : ''}, ${run.step === 0 ? 'shadow phase' : `step ${run.step}/${run.steps}`}, driven weights ${run.weights.stable}/${run.weights.canary} (${run.weightsFrom === 'spec' ? 'spec.traffic.weights are in effect' : 'from the steps'})`);
  lines.push(`Now: ${run.message}`);
  if (run.nextAction) lines.push(`Next: ${run.nextAction}`);
  const analysis = status?.analysis;
  if (analysis?.signals) {
    lines.push(`Evidence of the step (since ${analysis.stepStartedAt}, α ${analysis.alpha}): ${analysis.verdict ?? 'no-difference-yet'}`);
    for (const signal of analysis.signals) {
      const [low, high] = signal.interval ?? [];
      lines.push(`  ${signal.name.padEnd(8)} ${signal.verdict.padEnd(22)} canary ${signal.canary.events}/${signal.canary.trials}  stable ${signal.stable.events}/${signal.stable.trials}  ratio interval [${bound(low)}, ${bound(high)}]`);
    }
  }
  if (analysis?.shadow) {
    const shadow = analysis.shadow;
    const [low = 0, high = 1] = shadow.agreementInterval;
    lines.push(`Shadow ${shadow.version}: agreement ${percent(Math.max(0, shadow.agreementRate))} [${percent(low)}, ${percent(high)}], ${shadow.shadowOnlySpam} shadow-only spam, ${shadow.stableOnlySpam} stable-only spam, ${shadow.lean}`);
  }
  if (run.history.length > 0) {
    lines.push('History:');
    for (const record of run.history) {
      lines.push(`  ${record.step === 0 ? 'shadow' : `step ${record.step}`} ${String(record.canaryWeight).padStart(3)}%  ${record.outcome.padEnd(14)} ${record.startedAt} → ${record.endedAt}  ${record.canaryRequests} requests  ${record.message}`);
    }
  }
  return lines.join('\n');
}

export interface Kubectl {
  (args: readonly string[]): Promise<string>;
}

export function systemKubectl(binary = process.env.KUBECTL ?? 'kubectl'): Kubectl {
  const run = promisify(execFile);
  return async (args) => {
    try {
      return (await run(binary, [...args], { maxBuffer: 16 * 1024 * 1024 })).stdout;
    } catch (error) {
      const failed = error as { stderr?: string; message: string };
      throw new Error((failed.stderr ?? '').trim() || failed.message, { cause: error });
    }
  };
}

async function readExperiment(kubectl: Kubectl, name: string, flags: readonly string[]): Promise<SmsExperiment> {
  const json: unknown = JSON.parse(await kubectl(['get', 'smsexperiments.experiments.sms-app.io', name, '-o', 'json', ...flags]));
  const parsed = smsExperimentSchema.safeParse(json);
  if (!parsed.success) throw new Error(`SmsExperiment ${name} cannot be read: ${formatIssues(parsed.error).join('; ')}`);
  return parsed.data;
}

/** Runs a command; returns the text to print. */
export async function run(command: Command, kubectl: Kubectl, nonce: () => string = () => Date.now().toString(36)): Promise<string> {
  if (command.kind === 'help') return USAGE;
  const experiment = await readExperiment(kubectl, command.name, command.flags);
  if (command.kind === 'status') return formatStatus(experiment);
  if (experiment.spec.analysis.progression === undefined) throw new Error(`${command.name} has no spec.analysis.progression: there is no run to ${command.action}`);
  const value = `${command.action}/${nonce()}`;
  await kubectl(['annotate', 'smsexperiments.experiments.sms-app.io', command.name, `${REQUEST_ANNOTATION}=${value}`, '--overwrite', ...command.flags]);
  return `Requested ${command.action} of ${experiment.metadata.namespace}/${command.name} (${REQUEST_ANNOTATION}=${value}); the operator acts on it at its next analysis round: kubectl smsx status ${command.name}`;
}

export async function main(args: readonly string[]): Promise<number> {
  try {
    process.stdout.write(`${await run(parseArgs(args), systemKubectl())}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`kubectl smsx: ${error instanceof Error ? error.message : String(error)}\n${error instanceof UsageError ? `\n${USAGE}` : ''}`);
    return error instanceof UsageError ? 2 : 1;
  }
}
