import assert from 'node:assert/strict';
import { createEventRecorder, type EventSubject } from '../../../../src/operator/runtime/events.ts';
import { experimentLogger } from '../../../../src/operator/runtime/logging.ts';
import { apiError, FakeKubeClient } from '../support/fake-kube.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { memoryLogger } from '../support/memory-logger.ts';

const subject: EventSubject = { apiVersion: 'experiments.sms-app.io/v1alpha1', kind: 'SmsExperiment', namespace: 'ns', name: 'demo', uid: 'exp-uid', resourceVersion: '12' };

function setup(dedupeWindowMs = 60_000) {
  const client = new FakeKubeClient();
  const clock = new ManualClock(Date.parse('2025-03-04T05:06:07.089Z'));
  const { logger, lines } = memoryLogger();
  const recorder = createEventRecorder({
    client,
    reportingController: 'experiments.sms-app.io/sms-experiment-operator',
    reportingInstance: 'host_1',
    logger,
    clock,
    dedupeWindowMs,
  });
  const log = experimentLogger(logger, subject);
  return { client, clock, lines, recorder, log };
}

describe('events', () => {
  it('logs the line and records an events.k8s.io/v1 Event about the experiment', async () => {
    const { client, lines, recorder, log } = setup();
    recorder.warning(subject, log, {
      reason: 'OwnershipConflict',
      message: 'Service ns/demo already exists and is not controlled by SmsExperiment demo',
      action: 'Apply',
      fields: { object: 'Service ns/demo' },
    });
    await recorder.flush();

    assert.equal(lines.length, 1);
    assert.deepEqual(
      { level: lines[0]?.level, msg: lines[0]?.msg, namespace: lines[0]?.namespace, name: lines[0]?.name, reason: lines[0]?.reason, object: lines[0]?.object },
      { level: 'warn', msg: 'Service ns/demo already exists and is not controlled by SmsExperiment demo', namespace: 'ns', name: 'demo', reason: 'OwnershipConflict', object: 'Service ns/demo' },
    );

    const [create] = client.callsOf('create');
    assert.equal(create?.plural, 'events');
    assert.equal(create?.namespace, 'ns');
    const body = create?.body as Record<string, unknown> & { metadata: { name: string; namespace: string } };
    assert.match(body.metadata.name, /^demo\.[0-9a-f]+$/);
    assert.deepEqual({ ...body, metadata: undefined }, {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: undefined,
      eventTime: '2025-03-04T05:06:07.089000Z',
      type: 'Warning',
      reason: 'OwnershipConflict',
      action: 'Apply',
      note: 'Service ns/demo already exists and is not controlled by SmsExperiment demo',
      reportingController: 'experiments.sms-app.io/sms-experiment-operator',
      reportingInstance: 'host_1',
      regarding: { apiVersion: 'experiments.sms-app.io/v1alpha1', kind: 'SmsExperiment', namespace: 'ns', name: 'demo', uid: 'exp-uid', resourceVersion: '12' },
    });
  });

  it('records a repeat within the window once but logs it every time', async () => {
    const { client, clock, lines, recorder, log } = setup();
    const details = { reason: 'ApplyFailed', message: 'Failed to apply Deployment ns/x: boom' };
    recorder.warning(subject, log, details);
    clock.advance(30_000);
    recorder.warning(subject, log, details);
    recorder.warning(subject, log, { ...details, message: 'Failed to apply Deployment ns/x: other' });
    recorder.normal(subject, log, { reason: 'Ready', message: 'Became ready' });
    await recorder.flush();
    assert.equal(lines.length, 4);
    assert.equal(client.callsOf('create').length, 3, 'the identical repeat was not recorded');

    clock.advance(30_000);
    recorder.warning(subject, log, details);
    await recorder.flush();
    assert.equal(client.callsOf('create').length, 4, 'recorded again once the window passed');
  });

  it('gives events recorded in the same millisecond different names', async () => {
    const { client, recorder, log } = setup();
    recorder.normal(subject, log, { reason: 'A', message: 'a' });
    recorder.normal(subject, log, { reason: 'B', message: 'b' });
    await recorder.flush();
    const names = client.callsOf('create').map((c) => (c.body as { metadata: { name: string } }).metadata.name);
    assert.equal(new Set(names).size, 2);
  });

  it('never throws when the API refuses the event, logs it, and retries it next time', async () => {
    const { client, lines, recorder, log } = setup();
    client.failWith = (call) => (call.verb === 'create' ? apiError(403, { kind: 'Status', message: 'forbidden' }) : undefined);
    recorder.normal(subject, log, { reason: 'Reconciled', message: 'Applied 3 objects' });
    await recorder.flush();
    assert.ok(lines.some((line) => line.msg === 'Failed to record event' && line.level === 'warn'));
    client.failWith = () => undefined;
    recorder.normal(subject, log, { reason: 'Reconciled', message: 'Applied 3 objects' });
    await recorder.flush();
    assert.equal(client.callsOf('create').length, 2);
  });

  it('truncates a long note to the 1 KiB the API server accepts', async () => {
    const { client, recorder, log } = setup();
    recorder.warning(subject, log, { reason: 'ApplyFailed', message: 'é'.repeat(2_000) });
    await recorder.flush();
    const note = (client.callsOf('create')[0]?.body as { note: string }).note;
    assert.ok(Buffer.byteLength(note) <= 1024);
    assert.ok(note.endsWith('...'));
  });
});
