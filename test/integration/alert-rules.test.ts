// The alerting rules under `promtool test rules` (Debian's promtool, which hack/test.sh installs):
// the rendered HighRequestRate of an experiment, and the operator's own alerts of the install
// bundle, on synthetic series with the labels their ServiceMonitors give real targets. The output
// is printed.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { API_VERSION, KIND, smsExperimentSchema } from '../../src/crd/schema.ts';
import { promtoolRuleFile, render } from '../../src/operator/render/index.ts';
import { promtoolTestRules } from '../support/promtool.ts';

const repositoryRoot = path.resolve(import.meta.dirname, '../..');
const NAMESPACE = 'sms-app';
const experiment = smsExperimentSchema.parse({ apiVersion: API_VERSION, kind: KIND, metadata: { name: 'sms-app', namespace: NAMESPACE, uid: 'u' }, spec: {} });
const rules = promtoolRuleFile(render(experiment));

/** The app's counter for one version: `perScrape` more classifications every 15 s. */
function classified(version: string, perScrape: number, scrapes = 40) {
  return {
    series: `sms_messages_classified_total{namespace="${NAMESPACE}",service="sms-app-app",job="sms-app-app",pod="sms-app-app-${version}-0",version="${version}",result="ham"}`,
    values: `0+${perScrape}x${scrapes}`,
  };
}

const FIRING = {
  alertname: 'HighRequestRate',
  exp_alerts: [
    {
      exp_labels: { severity: 'warning', namespace: NAMESPACE, experiment: 'sms-app' },
      exp_annotations: {
        summary: `High SMS classification rate in ${NAMESPACE}/sms-app`,
        description: '16.0 classifications/min, above 15/min for 2m.',
      },
    },
  ],
};
const SILENT = { alertname: 'HighRequestRate', exp_alerts: [] };

describe('promtool test rules: HighRequestRate (15/min held 2m, the defaults)', function () {
  this.timeout(30_000);

  it('fires at 16/min held 2m, not before; never at 14/min', async () => {
    assert.ok(rules, 'monitoring is on by default');
    const tests = {
      evaluation_interval: '15s',
      tests: [
        {
          name: '16/min over two versions (12 + 4): the rate is over at 1m, pending until 3m, firing from then on',
          interval: '15s',
          input_series: [classified('v1', 3), classified('v2', 1)],
          alert_rule_test: [
            { eval_time: '1m', ...SILENT },
            { eval_time: '2m', ...SILENT },
            { eval_time: '2m45s', ...SILENT },
            { eval_time: '3m', ...FIRING },
            { eval_time: '8m', ...FIRING },
          ],
        },
        {
          name: '14/min (10 + 4): under the threshold, never fires',
          interval: '15s',
          input_series: [classified('v1', 2.5), classified('v2', 1)],
          alert_rule_test: [
            { eval_time: '3m', ...SILENT },
            { eval_time: '8m', ...SILENT },
          ],
        },
        {
          name: '16/min for 1m45s only, then 14/min: never held for 2m',
          interval: '15s',
          input_series: [
            { ...classified('v1', 3), values: '0+3x11 33+2.5x28' },
            classified('v2', 1),
          ],
          alert_rule_test: [
            { eval_time: '3m', ...SILENT },
            { eval_time: '6m', ...SILENT },
          ],
        },
      ],
    };
    const result = await promtoolTestRules({ 'high-request-rate.yaml': rules }, tests);
    console.log(`\n  promtool test rules (HighRequestRate):\n${result.output.replace(/^/gm, '    ')}\n`);
    assert.ok(result.passed, result.output);
  });

  it('fails a deliberately wrong expectation, so a passing run means something', async () => {
    assert.ok(rules);
    const tests = {
      evaluation_interval: '15s',
      tests: [{ interval: '15s', input_series: [classified('v1', 2.5), classified('v2', 1)], alert_rule_test: [{ eval_time: '5m', ...FIRING }] }],
    };
    const result = await promtoolTestRules({ 'high-request-rate.yaml': rules }, tests);
    assert.equal(result.passed, false, result.output);
    assert.match(result.output, /HighRequestRate/);
  });
});

describe('promtool test rules: the operator\'s own alerts (config/manager/operator_rules.yaml)', function () {
  this.timeout(30_000);
  const JOB = 'sms-experiment-operator-metrics';
  // honorLabels: series of an experiment carry its namespace, the others the operator's.
  const target = (pod: string) => `job="${JOB}",pod="${pod}"`;
  const operatorTarget = (pod: string) => `${target(pod)},namespace="sms-experiment-system"`;

  it('fires when no replica is up for 5m, on errors persisting 15m, on Degraded held 10m and on a rollback', async () => {
    const ruleFile = await readFile(path.join(repositoryRoot, 'config/manager/operator_rules.yaml'), 'utf8');
    const groups = (parse(ruleFile) as { spec: { groups: unknown[] } }).spec.groups;
    const degraded = (experiment: string, values: string) => ({
      series: `smsx_operator_experiment_condition{${target('op-0')},namespace="sms",experiment="${experiment}",condition="Degraded",status="True"}`,
      values,
    });
    const tests = {
      evaluation_interval: '1m',
      tests: [
        {
          name: 'both replicas down from minute 2: pending, then firing 5 minutes on',
          interval: '1m',
          input_series: [
            { series: `up{${operatorTarget('op-0')}}`, values: '1 1 0x20' },
            { series: `up{${operatorTarget('op-1')}}`, values: '1 1 0x20' },
          ],
          alert_rule_test: [
            { eval_time: '1m', alertname: 'SmsExperimentOperatorDown', exp_alerts: [] },
            { eval_time: '6m', alertname: 'SmsExperimentOperatorDown', exp_alerts: [] },
            {
              eval_time: '7m',
              alertname: 'SmsExperimentOperatorDown',
              exp_alerts: [{ exp_labels: { severity: 'critical' }, exp_annotations: { summary: 'No SMS experiment operator replica is up', description: 'Prometheus has scraped no operator replica for 5 minutes: experiments are not reconciled, and edits to them do nothing.' } }],
            },
          ],
        },
        {
          name: 'one replica of two up: not down',
          interval: '1m',
          input_series: [
            { series: `up{${operatorTarget('op-0')}}`, values: '1x20' },
            { series: `up{${operatorTarget('op-1')}}`, values: '0x20' },
          ],
          alert_rule_test: [{ eval_time: '15m', alertname: 'SmsExperimentOperatorDown', exp_alerts: [] }],
        },
        {
          name: 'ApplyFailed errors every minute: firing once they persisted 15 minutes; a single error burst does not',
          interval: '1m',
          input_series: [
            { series: `smsx_operator_reconcile_errors_total{${operatorTarget('op-0')},reason="ApplyFailed"}`, values: '0+1x40' },
            { series: `smsx_operator_reconcile_errors_total{${operatorTarget('op-0')},reason="InvalidSpec"}`, values: '0 5 5x40' },
          ],
          alert_rule_test: [
            { eval_time: '10m', alertname: 'SmsExperimentReconcileErrors', exp_alerts: [] },
            { eval_time: '17m', alertname: 'SmsExperimentReconcileErrors', exp_alerts: [
                {
                  exp_labels: { severity: 'warning', reason: 'ApplyFailed' },
                  exp_annotations: {
                    summary: 'SMS experiment reconciles keep failing (ApplyFailed)',
                    description: "Reconcile errors with reason ApplyFailed for 15 minutes: the experiments' conditions and Warning events say which and why.",
                  },
                },
              ],
            },
          ],
        },
        {
          name: 'Degraded for 12 minutes fires after 10; Degraded for 8 does not (the gauge series goes stale when the condition changes)',
          interval: '1m',
          input_series: [degraded('long', '1x12 stale'), degraded('short', '1x8 stale')],
          alert_rule_test: [
            { eval_time: '9m', alertname: 'SmsExperimentDegraded', exp_alerts: [] },
            { eval_time: '10m', alertname: 'SmsExperimentDegraded', exp_alerts: [
                {
                  exp_labels: { severity: 'warning', namespace: 'sms', experiment: 'long' },
                  exp_annotations: { summary: 'SmsExperiment sms/long is Degraded', description: 'Its Degraded condition has been True for 10 minutes: kubectl -n sms describe smsx long.' },
                },
              ],
            },
            { eval_time: '20m', alertname: 'SmsExperimentDegraded', exp_alerts: [] },
          ],
        },
        {
          name: 'a run that rolled back alerts at once; a promoted one does not',
          interval: '1m',
          input_series: [
            { series: `smsx_operator_progression_phase{${target('op-0')},namespace="sms",experiment="bad",phase="RolledBack"}`, values: '_ 1x5' },
            { series: `smsx_operator_progression_phase{${target('op-0')},namespace="sms",experiment="good",phase="Promoted"}`, values: '1x5' },
          ],
          alert_rule_test: [
            { eval_time: '0m', alertname: 'SmsExperimentRolledBack', exp_alerts: [] },
            {
              eval_time: '1m',
              alertname: 'SmsExperimentRolledBack',
              exp_alerts: [
                {
                  exp_labels: { severity: 'warning', namespace: 'sms', experiment: 'bad' },
                  exp_annotations: {
                    summary: 'SmsExperiment sms/bad rolled its canary back',
                    description: 'The progressive delivery run found the canary worse and moved every user back to the stable version: kubectl -n sms get smsx bad -o yaml shows the evidence.',
                  },
                },
              ],
            },
          ],
        },
      ],
    };
    const result = await promtoolTestRules({ 'operator-rules.yaml': stringify({ groups }) }, tests);
    console.log(`\n  promtool test rules (operator alerts):\n${result.output.replace(/^/gm, '    ')}\n`);
    assert.ok(result.passed, result.output);
  });
});
