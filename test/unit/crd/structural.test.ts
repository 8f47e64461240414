// zod's JSON Schema → Kubernetes structural schema translation.
import assert from 'node:assert/strict';
import { schemaProperties, toStructuralSchema } from '../../../src/crd/structural.ts';

describe('toStructuralSchema', () => {
  it('drops the document keywords and zod\'s safe-integer bounds', () => {
    assert.deepStrictEqual(
      toStructuralSchema({ $schema: 'x', type: 'integer', minimum: Number.MIN_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER }),
      { type: 'integer' },
    );
    assert.deepStrictEqual(toStructuralSchema({ type: 'integer', minimum: 0, maximum: 100 }), { type: 'integer', minimum: 0, maximum: 100 });
  });

  it('turns const into a one-value enum', () => {
    assert.deepStrictEqual(toStructuralSchema({ type: 'string', const: 'a' }), { type: 'string', enum: ['a'] });
  });

  it('drops additionalProperties: false (the API server prunes), keeps a typed map, preserves a loose object', () => {
    assert.deepStrictEqual(toStructuralSchema({ type: 'object', properties: {}, additionalProperties: false }), { type: 'object', properties: {} });
    assert.deepStrictEqual(toStructuralSchema({ type: 'object', additionalProperties: { type: 'string' } }), {
      type: 'object',
      additionalProperties: { type: 'string' },
    });
    assert.deepStrictEqual(toStructuralSchema({ type: 'object', additionalProperties: {} }), {
      type: 'object',
      'x-kubernetes-preserve-unknown-fields': true,
    });
  });

  it('refuses a keyword the CRD cannot express, naming where it is', () => {
    assert.throws(
      () => toStructuralSchema({ type: 'object', properties: { choice: { anyOf: [{ type: 'string' }, { type: 'number' }] } } }),
      /\.choice\.anyOf: JSON Schema keyword 'anyOf' has no structural-schema equivalent/,
    );
  });

  it('orders keywords description, type, default, bounds, rules, children', () => {
    const node = toStructuralSchema({
      properties: { a: { type: 'string' } },
      'x-kubernetes-validations': [{ rule: 'true', message: 'm' }],
      maxProperties: 3,
      default: {},
      type: 'object',
      description: 'd',
    });
    assert.deepStrictEqual(Object.keys(node), ['description', 'type', 'default', 'maxProperties', 'x-kubernetes-validations', 'properties']);
  });

  it('walks properties, list items and map values', () => {
    const paths = [
      ...schemaProperties({
        type: 'object',
        properties: {
          list: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' } } } },
          map: { type: 'object', additionalProperties: { type: 'object', properties: { value: { type: 'string' } } } },
        },
      }),
    ].map(([path]) => path);
    assert.deepStrictEqual(paths, ['list', 'list[].name', 'map', 'map{}.value']);
  });
});
