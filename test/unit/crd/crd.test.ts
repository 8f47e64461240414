// The generated CRD: committed file in sync, a structural schema the API server accepts, a
// description on every field, the same defaults as zod, and rules within the CEL cost budget.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { CRD_FILE, PRINTER_COLUMNS, buildCrd, renderCrdYaml } from '../../../src/crd/crd.ts';
import { smsExperimentSpecSchema } from '../../../src/crd/schema.ts';
import { schemaProperties } from '../../../src/crd/structural.ts';
import type { SchemaNode } from '../../../src/crd/structural.ts';
import { VALID_EXPERIMENTS } from '../../support/experiment-cases.ts';

const repositoryRoot = resolve(import.meta.dirname, '../../..');
const crd = buildCrd();
const version = crd.spec.versions[0];
if (version === undefined) throw new Error('the CRD has no version');
const root = version.schema.openAPIV3Schema;
const specSchema = root.properties?.spec;
if (specSchema === undefined) throw new Error('the CRD schema has no spec');

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The API server's structural defaulting: a missing property takes its default, then is defaulted in turn. */
function applySchemaDefaults(schema: SchemaNode, value: unknown): unknown {
  if (Array.isArray(value) && schema.items !== undefined) return value.map((item) => applySchemaDefaults(schema.items as SchemaNode, item));
  if (!isRecord(value) || schema.properties === undefined) return value;
  const result: Record<string, unknown> = { ...value };
  for (const [name, property] of Object.entries(schema.properties)) {
    if (result[name] === undefined && property.default !== undefined) result[name] = structuredClone(property.default);
    if (result[name] !== undefined) result[name] = applySchemaDefaults(property, result[name]);
  }
  return result;
}

/** The schema node at a printer column's simple JSONPath (.status.weights.stable), if it exists. */
function nodeAt(jsonPath: string): SchemaNode | undefined {
  let node: SchemaNode | undefined = root;
  for (const segment of jsonPath.replace(/\[.*$/, '').split('.').filter(Boolean)) node = node?.properties?.[segment];
  return node;
}

describe('SmsExperiment CRD', () => {
  it(`${CRD_FILE} is what npm run generate writes (run it when this fails)`, async () => {
    const committed = await readFile(resolve(repositoryRoot, CRD_FILE), 'utf8');
    assert.equal(committed, renderCrdYaml(), `${CRD_FILE} is stale: run \`npm run generate\``);
  });

  it('renders the same YAML twice', () => {
    assert.equal(renderCrdYaml(), renderCrdYaml());
  });

  it('declares the resource: group, names, scope, one served storage version with a status subresource', () => {
    const written = parse(renderCrdYaml()) as typeof crd;
    assert.deepStrictEqual(written, crd);
    assert.equal(crd.metadata.name, 'smsexperiments.experiments.sms-app.io');
    assert.equal(crd.spec.group, 'experiments.sms-app.io');
    assert.deepStrictEqual(crd.spec.names, {
      kind: 'SmsExperiment',
      listKind: 'SmsExperimentList',
      plural: 'smsexperiments',
      singular: 'smsexperiment',
      shortNames: ['smsx'],
      categories: ['sms'],
    });
    assert.equal(crd.spec.scope, 'Namespaced');
    assert.equal(crd.spec.versions.length, 1);
    assert.equal(version.name, 'v1alpha1');
    assert.ok(version.served && version.storage);
    assert.deepStrictEqual(version.subresources, { status: {} });
  });

  it('prints mode, stable %, canary %, mirror %, ready, the phase, the verdict and age, from fields that exist', () => {
    assert.deepStrictEqual(
      version.additionalPrinterColumns.filter((column) => column.priority === undefined).map((column) => column.name),
      ['Mode', 'Stable%', 'Canary%', 'Mirror%', 'Ready', 'Phase', 'Verdict', 'Age'],
    );
    for (const column of PRINTER_COLUMNS) {
      if (column.jsonPath.startsWith('.metadata.')) continue;
      assert.ok(nodeAt(column.jsonPath), `printer column ${column.name}: ${column.jsonPath} is not in the schema`);
    }
  });

  it('describes every field, so kubectl explain teaches the resource', () => {
    const undescribed = [['<root>', root] as const, ...schemaProperties(root)]
      // The API server owns metadata: at the root it must be a bare {type: object}.
      .filter(([path, node]) => path !== 'metadata' && (typeof node.description !== 'string' || node.description.length < 10))
      .map(([path]) => path);
    assert.deepStrictEqual(undescribed, [], 'fields without a description');
  });

  it('gives every field of the spec a type', () => {
    const untyped = [...schemaProperties(root)].filter(([, node]) => typeof node.type !== 'string').map(([path]) => path);
    assert.deepStrictEqual(untyped, []);
  });

  it('leaves metadata, apiVersion and kind to the API server', () => {
    assert.deepStrictEqual(root.properties?.metadata, { type: 'object' });
    assert.equal(root.properties?.apiVersion?.type, 'string');
    assert.equal(root.properties?.kind?.type, 'string');
    assert.equal(root.required, undefined);
  });

  it('carries the defaults: the API server defaults an empty spec exactly as zod does', () => {
    assert.deepStrictEqual(applySchemaDefaults(specSchema, {}), smsExperimentSpecSchema.parse({}));
    assert.deepStrictEqual(applySchemaDefaults(root, {}), { spec: smsExperimentSpecSchema.parse({}) });
  });

  for (const valid of VALID_EXPERIMENTS) {
    it(`defaults ${valid.title} exactly as zod does`, () => {
      assert.deepStrictEqual(applySchemaDefaults(specSchema, valid.spec), smsExperimentSpecSchema.parse(valid.spec));
    });
  }

  it('shows the documented defaults as OpenAPI defaults', () => {
    const defaults = Object.fromEntries(
      [...schemaProperties(specSchema, 'spec')].filter(([, node]) => node.default !== undefined).map(([path, node]) => [path, node.default]),
    );
    for (const [path, expected] of Object.entries({
      'spec.mode': 'canary',
      'spec.traffic.weights.stable': 90,
      'spec.traffic.weights.canary': 10,
      'spec.traffic.stickySession.cookie': 'sms-app-version',
      'spec.traffic.stickySession.ttl': '3600s',
      'spec.traffic.mirrorPercent': 10,
      'spec.istio.hosts.experiment': 'sms-app.local',
      'spec.istio.hosts.stable': 'stable.sms-app.local',
      'spec.istio.hosts.canary': 'canary.sms-app.local',
      'spec.istio.gatewaySelector': { istio: 'ingressgateway' },
      'spec.ingress.host': 'sms-nginx.local',
      'spec.monitoring.enabled': true,
      'spec.monitoring.highRequestRate.perMinute': 15,
      'spec.monitoring.highRequestRate.for': '2m',
      'spec.monitoring.email.passwordSecretRef.name': 'smtp-credentials',
      'spec.storage': { hostPath: '/mnt/shared/models' },
    })) {
      assert.deepStrictEqual(defaults[path], expected, `default of ${path}`);
    }
  });

  describe('validation rules', () => {
    const rulesByPath = [['<root>', root] as const, ...schemaProperties(root)].flatMap(([path, node]) =>
      ((node['x-kubernetes-validations'] ?? []) as { rule: string; message: string; fieldPath?: string }[]).map(
        (rule) => [path, node, rule] as const,
      ),
    );

    it('has rules', () => {
      assert.ok(rulesByPath.length >= 20, `only ${rulesByPath.length} rules`);
    });

    it('gives every rule a message that a person can read', () => {
      for (const [path, , rule] of rulesByPath) {
        assert.ok(rule.message.length >= 20, `${path}: rule ${rule.rule} needs a message`);
      }
    });

    it('bounds every string and map a rule reads, to keep within the CEL cost budget', () => {
      for (const [path, node] of rulesByPath) {
        if (node.type === 'string') assert.equal(typeof node.maxLength, 'number', `${path} needs maxLength`);
        if (node.type === 'object' && node.additionalProperties !== undefined) {
          assert.equal(typeof node.maxProperties, 'number', `${path} needs maxProperties`);
        }
        if (node.type === 'array') assert.equal(typeof node.maxItems, 'number', `${path} needs maxItems`);
      }
    });

    it('points every fieldPath at a declared field', () => {
      for (const [path, node, rule] of rulesByPath) {
        if (rule.fieldPath === undefined) continue;
        let target: SchemaNode | undefined = node;
        for (const segment of rule.fieldPath.split('.').filter(Boolean)) target = target?.properties?.[segment];
        assert.ok(target, `${path}: fieldPath ${rule.fieldPath} is not a field`);
      }
    });

    it('guards rules on objects with default {}: the API server checks defaults before nesting theirs', () => {
      for (const [path, node, rule] of rulesByPath) {
        if (!isRecord(node.default) || Object.keys(node.default).length > 0) continue;
        assert.match(rule.rule, /^!has\(self\./, `${path}: rule ${rule.rule} reads fields its default {} lacks`);
      }
    });
  });
});
