// Query builders and how counted series become per-version counts; the collection's pure half.
import assert from 'node:assert/strict';
import type { Series } from '../../../../src/operator/prometheus/client.ts';
import { countAnswer } from '../../../../src/operator/prometheus/collect.ts';
import { errorsSignal, guessesSignal, overRange, promqlString, shadowDisagreementSignal, shadowPairs, slowSignal, spamSignal } from '../../../../src/operator/prometheus/signals.ts';

const scope = { matchers: { service: 'sms-app-app', namespace: 'team "a"' } };
const at = (timestamp: number, labels: Record<string, string>, value: number): Series => ({ labels, samples: [{ timestamp, value }] });

function counted(signal: ReturnType<typeof errorsSignal>, before: Series[], after: Series[], versions = ['v1', 'v2']) {
  const baseline = countAnswer(signal, undefined, versions, before);
  assert.ok(baseline.ok, JSON.stringify(baseline));
  const next = countAnswer(signal, baseline.value.memory, versions, after);
  assert.ok(next.ok, JSON.stringify(next));
  return next.value;
}

describe('signal queries', () => {
  it('select raw counter series of the scope, with label values escaped, and nothing else', () => {
    assert.equal(promqlString('a\\b"c\nd'), '"a\\\\b\\"c\\nd"');
    assert.equal(errorsSignal(scope).promql, 'sms_requests_total{namespace="team \\"a\\"",service="sms-app-app"}');
    assert.equal(slowSignal(scope, 0.5).promql, 'sms_request_latency_seconds_bucket{namespace="team \\"a\\"",service="sms-app-app"}');
    assert.equal(spamSignal(scope).promql, 'sms_messages_classified_total{namespace="team \\"a\\"",service="sms-app-app"}');
    assert.equal(guessesSignal(scope).promql, 'sms_guesses_total{namespace="team \\"a\\"",service="sms-app-app"}');
    assert.equal(shadowDisagreementSignal({ matchers: { service: 'm' } }).promql, 'sms_model_shadow_comparisons_total{service="m"}');
    for (const signal of [errorsSignal(scope), slowSignal(scope, 1), spamSignal(scope), guessesSignal(scope)]) assert.doesNotMatch(signal.promql, /rate|increase|sum|\[/);
  });

  it('reads every raw sample of a range when asked to, and refuses a range that is not whole seconds', () => {
    assert.equal(overRange(errorsSignal({ matchers: { service: 's' } }), 30).promql, 'sms_requests_total{service="s"}[30s]');
    assert.throws(() => overRange(errorsSignal(scope), 0.5), /whole number of seconds, at least 1 \(got 0\.5\)/);
  });

  it('errors: every code is a trial, 5xx codes are events, per target version over pods', () => {
    const before = [at(1, { version: 'v1', pod: 'a', code: '200' }, 100), at(1, { version: 'v1', pod: 'b', code: '200' }, 50), at(1, { version: 'v2', pod: 'c', code: '200' }, 9)];
    const after = [
      at(2, { version: 'v1', pod: 'a', code: '200' }, 190),
      at(2, { version: 'v1', pod: 'a', code: '400' }, 2),
      at(2, { version: 'v1', pod: 'b', code: '200' }, 60),
      at(2, { version: 'v2', pod: 'c', code: '200' }, 19),
      at(2, { version: 'v2', pod: 'c', code: '503' }, 4),
      at(2, { version: 'v2', pod: 'c', code: '502' }, 1),
    ];
    assert.deepEqual(counted(errorsSignal(scope), before, after).counts, { v1: { trials: 102, events: 0 }, v2: { trials: 15, events: 5 } });
  });

  it('groups by the target label version, not the metric label that arrives as exported_version', () => {
    const before = [at(1, { version: 'v2', exported_version: 'v9', code: '200' }, 0)];
    const after = [at(2, { version: 'v2', exported_version: 'v9', code: '200' }, 3)];
    assert.deepEqual(counted(errorsSignal(scope), before, after, ['v2']).counts, { v2: { trials: 3, events: 0 } });
  });

  it('slow: the +Inf bucket minus the bound, matched by number (le="1" or "1.0")', () => {
    const buckets = (timestamp: number, le1: number, all: number) => [
      at(timestamp, { version: 'v1', le: '0.5' }, le1 - 1),
      at(timestamp, { version: 'v1', le: '1.0' }, le1),
      at(timestamp, { version: 'v1', le: '+Inf' }, all),
    ];
    assert.deepEqual(counted(slowSignal(scope, 1), buckets(1, 10, 12), buckets(2, 50, 60), ['v1']).counts, { v1: { trials: 48, events: 8 } });
  });

  it('spam and guesses: results and outcomes', () => {
    const spam = (t: number, s: number, h: number) => [at(t, { version: 'v1', result: 'spam' }, s), at(t, { version: 'v1', result: 'ham' }, h)];
    assert.deepEqual(counted(spamSignal(scope), spam(1, 1, 1), spam(2, 4, 11), ['v1']).counts, { v1: { trials: 13, events: 3 } });
    const guesses = (t: number, c: number, w: number) => [at(t, { version: 'v1', outcome: 'correct' }, c), at(t, { version: 'v1', outcome: 'wrong' }, w)];
    assert.deepEqual(counted(guessesSignal(scope), guesses(1, 0, 0), guesses(2, 7, 2), ['v1']).counts, { v1: { trials: 9, events: 2 } });
  });

  it('shadow: the four pairs and the disagreements', () => {
    const pairs = (t: number, ss: number, hh: number, hs: number, sh: number) => [
      at(t, { version: 'v2', stable_version: 'v1', stable_result: 'spam', shadow_result: 'spam' }, ss),
      at(t, { version: 'v2', stable_version: 'v1', stable_result: 'ham', shadow_result: 'ham' }, hh),
      at(t, { version: 'v2', stable_version: 'v1', stable_result: 'ham', shadow_result: 'spam' }, hs),
      at(t, { version: 'v2', stable_version: 'v1', stable_result: 'spam', shadow_result: 'ham' }, sh),
    ];
    const modelScope = { matchers: { service: 'm' } };
    const result = counted(shadowDisagreementSignal(modelScope), pairs(1, 0, 0, 0, 0), pairs(2, 10, 80, 6, 2), ['v2']);
    assert.deepEqual(result.counts, { v2: { trials: 98, events: 8 } });
    assert.deepEqual(shadowPairs(result.memory, modelScope), { v2: { bothSpam: 10, bothHam: 80, shadowOnlySpam: 6, stableOnlySpam: 2 } });
  });

  it('answers series-missing naming the version and what is absent, and bad-answer for a fraction', () => {
    const missing = countAnswer(slowSignal(scope, 0.3), undefined, ['v1', 'v2'], [at(1, { version: 'v1', le: '+Inf' }, 1)]);
    assert.equal(missing.ok, false);
    if (!missing.ok) {
      assert.equal(missing.problem.kind, 'series-missing');
      assert.match(missing.problem.message, /version="v1": no bucket with bound 0\.3 \(the threshold must be one of the histogram's bucket bounds\); version="v2": no le="\+Inf" bucket, no bucket with bound 0\.3/);
    }
    assert.equal(counted(errorsSignal(scope), [at(1, { version: 'v1', code: '200' }, 0)], [at(7.5, { version: 'v1', code: '200' }, 1)], ['v1']).observedAt, 7.5);
    const empty = countAnswer(errorsSignal(scope), undefined, [], []);
    assert.deepEqual(empty.ok ? empty.value : undefined, { memory: { series: {} }, counts: {}, observedAt: undefined });
    const fraction = countAnswer(errorsSignal(scope), undefined, ['v1'], [at(1, { version: 'v1', code: '200' }, 2.5)]);
    assert.deepEqual(fraction.ok ? undefined : fraction.problem.kind, 'bad-answer');
  });
});
