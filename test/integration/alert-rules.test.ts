// The alerting rules under `promtool test rules` (Debian's promtool, which hack/test.sh installs):
// the rendered HighRequestRate of an experiment on synthetic series, with the labels the rendered
// ServiceMonitor gives real targets. Its output is printed.
import assert from 'node:assert/strict';
import { API_VERSION, KIND, smsExperimentSchema } from '../../src/crd/schema.ts';
import { promtoolRuleFile, render } from '../../src/operator/render/index.ts';
import { promtoolTestRules } from '../support/promtool.ts';

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
