import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ArtifactError, loadArtifact, METADATA_FILE, MODEL_FILE, sha256 } from '../../../src/model/artifact.ts';
import { buildArtifact, trainToDirectory } from '../../../src/model/build-artifact.ts';
import { readDataset, type Dataset } from '../../../src/model/dataset.ts';
import { PRESETS } from '../../../src/model/presets.ts';
import { SpamClassifier, train } from '../../../src/model/training.ts';
import { FIXTURE_CORPUS } from '../../support/model-service.ts';

const CREATED = '2026-01-02T03:04:05.000Z';
const probes = ['WINNER! Claim your £900 prize, call 09061790121 now', 'are you coming to dinner tonight?', 'FREE ringtone, txt TONE to 88066'];

describe('model training and artifact', () => {
  let dataset: Dataset;
  let directory: string;

  before(async () => {
    dataset = await readDataset(FIXTURE_CORPUS);
    directory = await mkdtemp(path.join(tmpdir(), 'sms-artifact-test-'));
  });
  after(() => rm(directory, { recursive: true, force: true }));

  it('trains the same model file from the same data and seed, whatever the time', () => {
    for (const version of ['v1', 'v2'] as const) {
      const first = buildArtifact({ dataset, version, seed: 3, created: CREATED });
      const second = buildArtifact({ dataset, version, seed: 3, created: '2030-12-31T23:59:59.000Z' });
      assert.equal(first.modelText, second.modelText);
      assert.equal(first.metadata.model.sha256, sha256(second.modelText));
      assert.deepEqual({ ...first.metadata, created: '' }, { ...second.metadata, created: '' });
    }
  });

  it('keeps no training text in the model file, only tokens and counts', () => {
    const { modelText } = buildArtifact({ dataset, version: 'v2', seed: 1, created: CREATED });
    for (const message of dataset.messages.slice(0, 10)) assert.ok(!modelText.includes(message.text), `model.json contains "${message.text}"`);
  });

  it('gives two versions that answer differently', () => {
    const v1 = new SpamClassifier(train(dataset.messages, PRESETS.v1));
    const v2 = new SpamClassifier(train(dataset.messages, PRESETS.v2));
    assert.notDeepEqual(probes.map((text) => v1.predict(text).spamProbability), probes.map((text) => v2.predict(text).spamProbability));
  });

  it('round-trips: the loaded artifact predicts exactly like the trained model', async () => {
    const trained = new SpamClassifier(train(dataset.messages, PRESETS.v1, 5));
    const { directory: written } = await trainToDirectory({ dataset, version: 'v1', seed: 5, created: CREATED, modelsDirectory: directory });
    const loaded = await loadArtifact(written);
    assert.equal(loaded.metadata.modelVersion, 'v1');
    assert.equal(loaded.metadata.created, CREATED);
    assert.equal(loaded.metadata.dataset.sha256, dataset.sha256);
    assert.equal(loaded.metadata.dataset.messages, 60);
    assert.deepEqual(loaded.metadata.features, PRESETS.v1.features);
    assert.ok(loaded.metadata.evaluation !== null && loaded.metadata.evaluation.figures.messages === 60);
    for (const text of probes) assert.deepEqual(loaded.classifier.predict(text), trained.predict(text));
    assert.equal(trained.predict(probes[0] ?? '').result, 'spam');
    assert.equal(trained.predict(probes[1] ?? '').result, 'ham');
  });

  describe('refuses a broken artifact with one message naming the problem', () => {
    let good: { model: string; metadata: string };

    before(async () => {
      const { directory: written } = await trainToDirectory({ dataset, version: 'v2', seed: 1, created: CREATED, modelsDirectory: directory, evaluate: false });
      good = { model: await readFile(path.join(written, MODEL_FILE), 'utf8'), metadata: await readFile(path.join(written, METADATA_FILE), 'utf8') };
    });

    async function loadVariant(name: string, model: string | undefined, metadata: string | undefined): Promise<string> {
      const variant = path.join(directory, name);
      await rm(variant, { recursive: true, force: true });
      await mkdir(variant, { recursive: true });
      if (model !== undefined) await writeFile(path.join(variant, MODEL_FILE), model);
      if (metadata !== undefined) await writeFile(path.join(variant, METADATA_FILE), metadata);
      const error = await loadArtifact(variant).then(
        () => assert.fail(`${name} loaded`),
        (failure: unknown) => failure,
      );
      assert.ok(error instanceof ArtifactError, String(error));
      assert.ok(!error.message.includes('\n'), 'one line');
      return error.message;
    }

    const metadataWith = (change: (value: Record<string, unknown>) => void) => {
      const value = JSON.parse(good.metadata) as Record<string, unknown>;
      change(value);
      return JSON.stringify(value);
    };

    it('truncated model file', async () => {
      assert.match(await loadVariant('truncated', good.model.slice(0, 500), good.metadata), /truncated\/model\.json is corrupt: sha256 .* does not match/);
    });

    it('model file changed after training', async () => {
      assert.match(await loadVariant('changed', good.model.replace('"alpha":0.1', '"alpha":0.2'), good.metadata), /model\.json is corrupt/);
    });

    it('model file that is not JSON but matches its recorded hash', async () => {
      const garbage = 'not json at all';
      const metadata = metadataWith((value) => ((value.model as Record<string, unknown>).sha256 = sha256(garbage)));
      assert.match(await loadVariant('garbage', garbage, metadata), /garbage\/model\.json is not valid JSON/);
    });

    it('model file that fails the schema', async () => {
      const wrong = good.model.replace('"classifier":"naive-bayes"', '"classifier":"svm"');
      const metadata = metadataWith((value) => ((value.model as Record<string, unknown>).sha256 = sha256(wrong)));
      assert.match(await loadVariant('schema', wrong, metadata), /schema\/model\.json is invalid: classifier: /);
    });

    it('metadata that is not JSON', async () => {
      assert.match(await loadVariant('bad-metadata', good.model, '{"formatVersion": 1,'), /bad-metadata\/metadata\.json is not valid JSON/);
    });

    it('unknown format version', async () => {
      const metadata = metadataWith((value) => (value.formatVersion = 2));
      assert.equal(
        await loadVariant('future', good.model, metadata),
        `${path.join(directory, 'future')}/metadata.json has unknown format version 2 (this service reads format version 1)`,
      );
    });

    it('metadata missing a field', async () => {
      const metadata = metadataWith((value) => delete value.dataset);
      assert.match(await loadVariant('no-dataset', good.model, metadata), /no-dataset\/metadata\.json is invalid: dataset: /);
    });

    it('missing model file', async () => {
      assert.match(await loadVariant('no-model', undefined, good.metadata), /no-model\/model\.json does not exist/);
    });
  });
});
