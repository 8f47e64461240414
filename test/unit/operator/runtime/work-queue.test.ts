import assert from 'node:assert/strict';
import { WorkQueue, type ProcessResult } from '../../../../src/operator/runtime/work-queue.ts';
import { flushPromises, ManualClock } from '../support/manual-clock.ts';

/** A process function whose passes the test finishes by hand. */
class ControlledProcess {
  readonly started: string[] = [];
  readonly #pending = new Map<string, Array<{ resolve: (r: ProcessResult) => void; reject: (e: Error) => void }>>();
  active = 0;
  maxActive = 0;
  readonly activeKeys = new Set<string>();
  overlapped = false;

  readonly process = (key: string): Promise<ProcessResult> => {
    this.started.push(key);
    if (this.activeKeys.has(key)) this.overlapped = true;
    this.activeKeys.add(key);
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    return new Promise<ProcessResult>((resolve, reject) => {
      const settle = () => {
        this.active--;
        this.activeKeys.delete(key);
      };
      const list = this.#pending.get(key) ?? [];
      list.push({
        resolve: (r) => {
          settle();
          resolve(r);
        },
        reject: (e) => {
          settle();
          reject(e);
        },
      });
      this.#pending.set(key, list);
    });
  };

  async succeed(key: string, result?: ProcessResult): Promise<void> {
    this.#take(key).resolve(result);
    await flushPromises();
  }

  async fail(key: string, error: Error = new Error('boom')): Promise<void> {
    this.#take(key).reject(error);
    await flushPromises();
  }

  #take(key: string) {
    const entry = this.#pending.get(key)?.shift();
    assert.ok(entry, `no running pass for ${key}`);
    return entry;
  }
}

function setup(concurrency = 2) {
  const clock = new ManualClock(1_000);
  const controlled = new ControlledProcess();
  const failures: Array<{ key: string; retryInMs: number }> = [];
  const queue = new WorkQueue({
    process: controlled.process,
    concurrency,
    clock,
    backoff: { baseMs: 100, capMs: 1_000 },
    onFailure: (key, _error, retryInMs) => failures.push({ key, retryInMs }),
  });
  return { clock, controlled, queue, failures };
}

describe('WorkQueue', () => {
  it('rejects a concurrency that is not a positive integer', () => {
    assert.throws(() => new WorkQueue({ process: () => Promise.resolve(), concurrency: 0 }), RangeError);
    assert.throws(() => new WorkQueue({ process: () => Promise.resolve(), concurrency: 1.5 }), RangeError);
  });

  it('deduplicates a key that is added again while it waits', async () => {
    const { controlled, queue } = setup(1);
    queue.add('ns/blocker');
    queue.add('ns/a');
    queue.add('ns/a');
    queue.add('ns/a');
    assert.equal(queue.depth, 1);
    await flushPromises();
    await controlled.succeed('ns/blocker');
    await controlled.succeed('ns/a');
    assert.deepEqual(controlled.started, ['ns/blocker', 'ns/a']);
    assert.equal(queue.depth, 0);
  });

  it('never runs one key twice at once and runs it again after a re-add during its pass', async () => {
    const { controlled, queue } = setup(4);
    queue.add('ns/a');
    await flushPromises();
    assert.deepEqual(controlled.started, ['ns/a']);
    queue.add('ns/a');
    queue.add('ns/a');
    await flushPromises();
    assert.deepEqual(controlled.started, ['ns/a'], 'the re-added key waits for the running pass');
    assert.equal(queue.depth, 0, 'a key that waits for its own pass is not counted as ready');
    await controlled.succeed('ns/a');
    assert.deepEqual(controlled.started, ['ns/a', 'ns/a'], 'one more pass, not two');
    await controlled.succeed('ns/a');
    assert.equal(controlled.overlapped, false);
    assert.equal(queue.runningCount, 0);
  });

  it('runs different keys concurrently up to the bound, in arrival order', async () => {
    const { controlled, queue } = setup(2);
    for (const key of ['ns/a', 'ns/b', 'ns/c', 'ns/d']) queue.add(key);
    await flushPromises();
    assert.deepEqual(controlled.started, ['ns/a', 'ns/b']);
    assert.equal(queue.depth, 2);
    assert.equal(queue.runningCount, 2);
    await controlled.succeed('ns/b');
    assert.deepEqual(controlled.started, ['ns/a', 'ns/b', 'ns/c']);
    await controlled.succeed('ns/a');
    await controlled.succeed('ns/c');
    await controlled.succeed('ns/d');
    assert.equal(controlled.maxActive, 2);
    assert.equal(queue.depth, 0);
  });

  it('runs changed keys before background ones, and a change overtakes a waiting background pass', async () => {
    const { controlled, queue } = setup(1);
    queue.add('ns/blocker');
    for (const key of ['ns/r1', 'ns/r2', 'ns/r3']) queue.add(key, { background: true });
    queue.add('ns/edited');
    queue.add('ns/r3'); // an event for a key already waiting in the background
    queue.add('ns/r1', { background: true }); // a background add never demotes or duplicates
    assert.equal(queue.depth, 4);
    await flushPromises();
    for (const key of ['ns/blocker', 'ns/edited', 'ns/r3', 'ns/r1', 'ns/r2']) await controlled.succeed(key);
    assert.deepEqual(controlled.started, ['ns/blocker', 'ns/edited', 'ns/r3', 'ns/r1', 'ns/r2']);
    assert.equal(queue.depth, 0);
  });

  it('puts a key re-added while it runs back in the lane it was re-added to', async () => {
    const { controlled, queue } = setup(1);
    queue.add('ns/a');
    await flushPromises();
    queue.add('ns/a', { background: true });
    queue.add('ns/b');
    await controlled.succeed('ns/a');
    assert.deepEqual(controlled.started, ['ns/a', 'ns/b'], 'the background rerun waits behind the change');
    await controlled.succeed('ns/b');
    assert.deepEqual(controlled.started, ['ns/a', 'ns/b', 'ns/a']);
    await controlled.succeed('ns/a');

    queue.add('ns/c');
    await flushPromises();
    queue.add('ns/c', { background: true });
    queue.add('ns/c'); // then a change: the rerun is a changed key's
    queue.add('ns/e', { background: true });
    await controlled.succeed('ns/c');
    assert.deepEqual(controlled.started.slice(3), ['ns/c', 'ns/c'], 'the rerun goes before the background key');
    await controlled.succeed('ns/c');
    await controlled.succeed('ns/e');
    assert.equal(queue.depth, 0);
  });

  it('retries a failing key with doubling delays up to the cap and resets on success', async () => {
    const { clock, controlled, queue, failures } = setup();
    queue.add('ns/a');
    await flushPromises();
    const expected = [100, 200, 400, 800, 1_000, 1_000];
    for (const delay of expected) {
      await controlled.fail('ns/a');
      assert.deepEqual(clock.pendingDelays(), [delay]);
      clock.advance(delay - 1);
      await flushPromises();
      assert.equal(controlled.active, 0, `no retry before ${delay} ms`);
      clock.advance(1);
      await flushPromises();
      assert.equal(controlled.active, 1, `retry at ${delay} ms`);
    }
    assert.deepEqual(
      failures.map((f) => f.retryInMs),
      expected,
    );
    assert.equal(queue.failuresOf('ns/a'), expected.length);
    await controlled.succeed('ns/a');
    assert.equal(queue.failuresOf('ns/a'), 0);
    assert.equal(clock.pendingTimers, 0);

    queue.add('ns/a');
    await flushPromises();
    await controlled.fail('ns/a');
    assert.deepEqual(clock.pendingDelays(), [100], 'backoff starts over after a success');
  });

  it('keeps backoff per key', async () => {
    const { controlled, queue } = setup();
    queue.add('ns/a');
    queue.add('ns/b');
    await flushPromises();
    await controlled.fail('ns/a');
    await controlled.succeed('ns/b');
    assert.equal(queue.failuresOf('ns/a'), 1);
    assert.equal(queue.failuresOf('ns/b'), 0);
  });

  it('requeues after the delay a successful pass asks for', async () => {
    const { clock, controlled, queue } = setup();
    queue.add('ns/a');
    await flushPromises();
    await controlled.succeed('ns/a', { requeueAfterMs: 5_000 });
    assert.equal(queue.delayedCount, 1);
    clock.advance(5_000);
    await flushPromises();
    assert.deepEqual(controlled.started, ['ns/a', 'ns/a']);
  });

  it('keeps the earlier of two delayed adds of one key', async () => {
    const { clock, controlled, queue } = setup();
    queue.addAfter('ns/a', 1_000);
    queue.addAfter('ns/a', 5_000);
    assert.deepEqual(clock.pendingDelays(), [1_000]);
    queue.addAfter('ns/a', 300);
    assert.deepEqual(clock.pendingDelays(), [300], 'a sooner add replaces the later one');
    clock.advance(300);
    await flushPromises();
    assert.deepEqual(controlled.started, ['ns/a']);
    assert.equal(clock.pendingTimers, 0);
  });

  it('treats a non-positive delay as an immediate add', async () => {
    const { controlled, queue } = setup();
    queue.addAfter('ns/a', 0);
    await flushPromises();
    assert.deepEqual(controlled.started, ['ns/a']);
  });

  it('forgets a key: failure count and pending retry', async () => {
    const { clock, controlled, queue } = setup();
    queue.add('ns/a');
    await flushPromises();
    await controlled.fail('ns/a');
    queue.forget('ns/a');
    assert.equal(queue.failuresOf('ns/a'), 0);
    assert.equal(clock.pendingTimers, 0);
  });

  it('shuts down: waits for running passes, drops waiting and delayed keys, ignores new adds', async () => {
    const { clock, controlled, queue } = setup(1);
    queue.add('ns/a');
    queue.add('ns/b');
    queue.addAfter('ns/c', 1_000);
    await flushPromises();
    let drained = false;
    const shutdown = queue.shutdown().then(() => {
      drained = true;
    });
    await flushPromises();
    assert.equal(drained, false, 'shutdown waits for the running pass');
    queue.add('ns/d');
    await controlled.succeed('ns/a', { requeueAfterMs: 10 });
    await shutdown;
    assert.equal(drained, true);
    clock.advance(10_000);
    await flushPromises();
    assert.deepEqual(controlled.started, ['ns/a']);
    assert.equal(queue.depth, 0);
    assert.equal(clock.pendingTimers, 0);
  });

  it('survives an observer that throws', async () => {
    const clock = new ManualClock();
    let runs = 0;
    const queue = new WorkQueue({
      process: () => {
        runs++;
        return Promise.reject(new Error('boom'));
      },
      concurrency: 1,
      clock,
      backoff: { baseMs: 10, capMs: 10 },
      onFailure: () => {
        throw new Error('observer broke');
      },
    });
    queue.add('ns/a');
    await flushPromises();
    clock.advance(10);
    await flushPromises();
    assert.equal(runs, 2);
    await queue.shutdown();
  });
});
