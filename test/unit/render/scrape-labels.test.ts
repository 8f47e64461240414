// The target labels test/support/prometheus.ts gives its static scrape targets come from the
// rendered ServiceMonitors, Services and Deployments, the way prometheus-operator would label a pod.
import assert from 'node:assert/strict';
import { experimentNames, render } from '../../../src/operator/render/index.ts';
import { serviceMonitorTargetLabels } from '../../support/prometheus.ts';
import { experiment, NAMESPACE } from './fixtures.ts';

const names = experimentNames('sms-app');

describe('scrape target labels from the rendered ServiceMonitors', () => {
  it("labels an app pod with prometheus-operator's labels and the relabelled version and pod", () => {
    const objects = render(experiment({ app: { canary: { version: 'v2-rc1' } } }));
    assert.deepEqual(serviceMonitorTargetLabels(objects, names.appServiceMonitor, 'sms-app-app-canary', 'sms-app-app-canary-7d9f-x2'), {
      namespace: NAMESPACE,
      service: 'sms-app-app',
      pod: 'sms-app-app-canary-7d9f-x2',
      container: 'app',
      endpoint: 'http',
      job: 'sms-app-app',
      version: 'v2-rc1',
    });
  });

  it("gives the shadow model's pod its version label, shadow by default", () => {
    const labels = serviceMonitorTargetLabels(render(experiment({ mode: 'shadow' })), names.modelServiceMonitor, 'sms-app-model-shadow', 'p');
    assert.equal(labels.version, 'shadow');
    assert.equal(labels.service, 'sms-app-model');
  });

  it('refuses a Deployment the ServiceMonitor does not reach', () => {
    assert.throws(() => serviceMonitorTargetLabels(render(experiment()), names.appServiceMonitor, 'sms-app-model', 'p'), /should reach the pods of sms-app-model through exactly one Service, found 0/);
  });
});
