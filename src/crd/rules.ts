// Validation rules written once for both validators: the CEL expression goes into the CRD as an
// `x-kubernetes-validations` entry (the API server is the authority), and the TypeScript predicate
// runs in the operator's zod parse so that a spec the operator reads is held to the same rules.
import type { z } from 'zod';
import { celString } from './formats.ts';

/**
 * Reasons the API server accepts on an x-kubernetes-validations rule, less FieldValueDuplicate: the
 * API server reports that one without the rule's message, which is the part a person needs.
 */
export type RuleReason = 'FieldValueInvalid' | 'FieldValueRequired' | 'FieldValueForbidden';

export interface ValidationRule<T> {
  /** CEL expression evaluated by the API server against `self`, the value of the field the rule is on. */
  rule: string;
  /** Shown to the user by both validators; names the field in spec terms. */
  message: string;
  /** A JSON path below the field (e.g. `.canary.version`) that the error is reported on. */
  fieldPath?: string;
  reason?: RuleReason;
  /** The same rule in TypeScript. */
  holds: (value: T) => boolean;
}

/** The x-kubernetes-validations entry of a rule, as the CRD carries it. */
export interface CelValidation {
  rule: string;
  message: string;
  fieldPath?: string;
  reason?: RuleReason;
}

export function toCelValidation<T>({ rule, message, fieldPath, reason }: ValidationRule<T>): CelValidation {
  return { rule, message, ...(fieldPath === undefined ? {} : { fieldPath }), ...(reason === undefined ? {} : { reason }) };
}

/** `.canary.version` → ['canary', 'version'], the zod issue path of a rule's fieldPath. */
function issuePath(fieldPath: string | undefined): string[] {
  return fieldPath === undefined ? [] : fieldPath.split('.').filter((segment) => segment !== '');
}

/**
 * Describes a schema and attaches its rules to both validators. Call it once per schema: zod's
 * `.meta()` replaces, not appends, the `x-kubernetes-validations` of an earlier call.
 */
export function described<S extends z.ZodType>(
  schema: S,
  description: string,
  rules: readonly ValidationRule<z.output<S>>[] = [],
  extraMeta: Record<string, unknown> = {},
): S {
  const validations = rules.length === 0 ? {} : { 'x-kubernetes-validations': rules.map(toCelValidation) };
  const checked =
    rules.length === 0
      ? schema
      : schema.superRefine((value, ctx) => {
          for (const rule of rules) {
            if (!holdsSafely(rule, value)) ctx.addIssue({ code: 'custom', message: rule.message, path: issuePath(rule.fieldPath) });
          }
        });
  return checked.meta({ description, ...extraMeta, ...validations });
}

/**
 * A predicate that throws on a value of the wrong shape; zod has already reported that shape
 * problem, so the rule itself is not reported a second time.
 */
function holdsSafely<T>(rule: ValidationRule<T>, value: T): boolean {
  try {
    return rule.holds(value);
  } catch {
    return true;
  }
}

/** A rule that the whole string matches a pattern from formats.ts. */
export function matches(pattern: string, message: string): ValidationRule<string> {
  const regex = new RegExp(pattern);
  return { rule: `self.matches(${celString(pattern)})`, message, holds: (value) => regex.test(value) };
}

/**
 * A CEL rule over fields that are always present in a stored object (they have defaults) but absent
 * from an object's own `default: {}`: the API server checks each default against the rules without
 * first applying the nested defaults, so the rule must accept their absence. `fields` are paths below
 * `self`, parents before children (e.g. 'istio', 'istio.hosts').
 */
export function whenPresent(fields: readonly string[], rule: string): string {
  return [...fields.map((field) => `!has(self.${field})`), `(${rule})`].join(' || ');
}
