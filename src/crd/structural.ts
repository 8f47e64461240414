// Turns zod's JSON Schema into a Kubernetes structural schema (apiextensions.k8s.io/v1
// JSONSchemaProps). Keywords the API server knows pass through; the few zod artefacts it does not
// accept are translated; anything else throws, naming the path, so that a schema change the CRD cannot
// express fails `npm run generate` instead of being dropped silently.

/** A JSON Schema node as z.toJSONSchema emits it and as the CRD carries it. */
export interface SchemaNode {
  [keyword: string]: unknown;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  additionalProperties?: SchemaNode | boolean;
}

/**
 * Keywords of JSONSchemaProps that carry over, in the order the CRD lists them: what a reader needs
 * first (description, type, default) before bounds, rules and children.
 */
const KEYWORD_ORDER = [
  'description',
  'type',
  'format',
  'enum',
  'default',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'minLength',
  'maxLength',
  'pattern',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
  'multipleOf',
  'required',
  'nullable',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-validations',
  'properties',
  'additionalProperties',
  'items',
];
const PASSTHROUGH_KEYWORDS = new Set(KEYWORD_ORDER.filter((keyword) => !['properties', 'additionalProperties', 'items'].includes(keyword)));

function inKeywordOrder(node: SchemaNode): SchemaNode {
  return Object.fromEntries(
    Object.entries(node).sort(([a], [b]) => KEYWORD_ORDER.indexOf(a) - KEYWORD_ORDER.indexOf(b)),
  );
}

/** Keywords of the JSON Schema document itself, meaningless inside a CRD. */
const DOCUMENT_KEYWORDS = new Set(['$schema', '$id', 'id']);

function isSchemaNode(value: unknown): value is SchemaNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** zod bounds every z.int() by the safe integers; that is the JSON number limit, not a constraint. */
function isSafeIntegerBound(keyword: string, value: unknown): boolean {
  return (
    (keyword === 'minimum' && value === Number.MIN_SAFE_INTEGER) || (keyword === 'maximum' && value === Number.MAX_SAFE_INTEGER)
  );
}

export function toStructuralSchema(node: unknown, path = ''): SchemaNode {
  if (!isSchemaNode(node)) throw new Error(`${path || '<root>'}: expected a schema object`);
  const result: SchemaNode = {};
  for (const [keyword, value] of Object.entries(node)) {
    const at = `${path}.${keyword}`;
    if (DOCUMENT_KEYWORDS.has(keyword) || isSafeIntegerBound(keyword, value)) continue;
    if (keyword === 'properties') {
      if (!isSchemaNode(value)) throw new Error(`${at}: expected an object`);
      result.properties = Object.fromEntries(
        Object.entries(value).map(([name, property]) => [name, toStructuralSchema(property, `${path}.${name}`)]),
      );
    } else if (keyword === 'items') {
      result.items = toStructuralSchema(value, `${path}[]`);
    } else if (keyword === 'additionalProperties') {
      // false is zod's strict object: the API server prunes unknown fields anyway. {} or true is a
      // loose object: in a structural schema that is x-kubernetes-preserve-unknown-fields.
      if (value === false) continue;
      if (value === true || (isSchemaNode(value) && Object.keys(value).length === 0)) {
        result['x-kubernetes-preserve-unknown-fields'] = true;
      } else {
        result.additionalProperties = toStructuralSchema(value, `${path}{}`);
      }
    } else if (keyword === 'const') {
      result.enum = [value];
    } else if (PASSTHROUGH_KEYWORDS.has(keyword)) {
      result[keyword] = value;
    } else {
      throw new Error(`${at}: JSON Schema keyword '${keyword}' has no structural-schema equivalent; express it as a CEL rule`);
    }
  }
  return inKeywordOrder(result);
}

/** Every property path of a structural schema with its node, depth first, in declaration order. */
export function* schemaProperties(node: SchemaNode, path = ''): Generator<[string, SchemaNode]> {
  for (const [name, property] of Object.entries(node.properties ?? {})) {
    const propertyPath = path === '' ? name : `${path}.${name}`;
    yield [propertyPath, property];
    yield* schemaProperties(property, propertyPath);
  }
  if (node.items !== undefined) yield* schemaProperties(node.items, `${path}[]`);
  if (isSchemaNode(node.additionalProperties)) yield* schemaProperties(node.additionalProperties, `${path}{}`);
}
