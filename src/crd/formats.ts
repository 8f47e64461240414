// String formats of the SmsExperiment spec. Every pattern is written once and used twice: by the API
// server (inside CEL `matches()`, RE2 syntax) and by the operator's zod parse (JavaScript RegExp), so
// each one sticks to the syntax both engines read the same way: no lookaround, no backreferences.

/** A DNS-1123 subdomain: what Kubernetes accepts as an object name and Istio as a host. */
export const DNS1123_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
export const DNS1123_SUBDOMAIN_MAX_LENGTH = 253;

/** A DNS-1123 label: what Istio accepts as a DestinationRule subset name. */
export const DNS1123_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';

/** A DNS-1035 label (a letter first): what Kubernetes accepts as a Service name. */
export const DNS1035_LABEL = '^[a-z]([-a-z0-9]*[a-z0-9])?$';
export const DNS_LABEL_MAX_LENGTH = 63;

/** A non-empty Kubernetes label value. */
export const LABEL_VALUE = '^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$';
/** A label value that may be empty (label selectors allow `key: ""`). */
export const OPTIONAL_LABEL_VALUE = '^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$';
export const LABEL_VALUE_MAX_LENGTH = 63;

/** An RFC 6265 cookie-name: an RFC 2616 token (visible ASCII except separators). */
export const COOKIE_NAME = "^[-!#$%&'*+.^_`|~0-9A-Za-z]+$";

/** A Go duration as CEL's `duration()` reads it, limited to the units a cookie lifetime needs. */
export const GO_DURATION = '^([0-9]+(\\.[0-9]+)?(h|m|s|ms))+$';

/** A Prometheus duration (the `for` of an alerting rule), e.g. 2m, 1h30m, 0. The empty string also matches. */
export const PROMETHEUS_DURATION = '^(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?$|^0$';

// Whitespace spelt out: `\s` means more characters to JavaScript than to RE2.
const ADDRESS_PART = '[^@,\\t\\n\\f\\r ]+';
/** One e-mail address, loosely: something@somewhere, no spaces. */
export const EMAIL_ADDRESS = `^${ADDRESS_PART}@${ADDRESS_PART}$`;
/** One or more e-mail addresses separated by commas, as Alertmanager's `to` accepts. */
export const EMAIL_ADDRESS_LIST = `^${ADDRESS_PART}@${ADDRESS_PART}(, *${ADDRESS_PART}@${ADDRESS_PART})*$`;

/**
 * A container image reference, loosely: the characters of registry/path:tag@digest. The container
 * runtime has the last word; this catches the empty string, spaces and pasted quotes.
 */
export const IMAGE = '^[A-Za-z0-9][-A-Za-z0-9._/:@]*$';

const PORT = '([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])';
const HOSTNAME = '[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*';
/** host:port of an SMTP server (Alertmanager's smarthost); an IPv6 host goes in brackets. */
export const SMARTHOST = `^(${HOSTNAME}|\\[[0-9A-Fa-f:.]+\\]):${PORT}$`;

/** A key of a Secret's data. */
export const SECRET_KEY = '^[-._a-zA-Z0-9]+$';

/** A path segment `..`, which would let a hostPath escape the directory it names. */
export const PARENT_SEGMENT = '(^|/)\\.\\.(/|$)';

/**
 * The experiment's own name prefixes every object the operator creates, and some of those (Services)
 * must be DNS-1035 labels of at most 63 characters: a letter first, 40 characters leaves room for the
 * longest suffix (`-model-` plus a version label).
 */
export const EXPERIMENT_NAME = DNS1035_LABEL;
export const EXPERIMENT_NAME_MAX_LENGTH = 40;

/** Length of a version label: it ends up inside object names next to the experiment name. */
export const VERSION_MAX_LENGTH = 16;

const GO_DURATION_UNIT_SECONDS: Readonly<Record<string, number>> = { h: 3600, m: 60, s: 1, ms: 0.001 };

/**
 * Seconds in a duration such as '3600s', '1h', '1h30m' or '1.5h' (the GO_DURATION subset), or
 * undefined when the text is not one. The renderer uses it for the cookie's Max-Age.
 */
export function durationSeconds(text: string): number | undefined {
  if (!new RegExp(GO_DURATION).test(text)) return undefined;
  let seconds = 0;
  for (const [, amount, , unit] of text.matchAll(/([0-9]+(\.[0-9]+)?)(h|ms|m|s)/g)) {
    seconds += Number(amount) * (GO_DURATION_UNIT_SECONDS[unit ?? ''] ?? Number.NaN);
  }
  return seconds;
}

/** Quotes text as a CEL string literal. */
export function celString(text: string): string {
  return `'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

/** A Kubernetes resource quantity as written in a spec: 100m, 0.5, 256Mi, 1G, 1e3. */
export const QUANTITY = '^([+]?[0-9]+(\\.[0-9]*)?|[+]?\\.[0-9]+)(([KMGTPE]i)|[numkMGTPE]|([eE][+-]?[0-9]+))?$';
const QUANTITY_SUFFIX: Readonly<Record<string, number>> = {
  n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** The value of a quantity (256Mi → 268435456, 100m → 0.1), or undefined when it is not one. */
export function quantityValue(text: string): number | undefined {
  const match = new RegExp(QUANTITY).exec(text);
  if (!match) return undefined;
  const number = Number(match[1]);
  const suffix = match[3] ?? '';
  if (/^[eE]/.test(suffix)) return number * 10 ** Number(suffix.slice(1));
  const factor = QUANTITY_SUFFIX[suffix];
  return factor === undefined ? undefined : number * factor;
}

/**
 * A label or annotation key: an optional DNS-subdomain prefix and '/', then a name of at most 63
 * characters (letters, digits, '-', '_', '.', alphanumeric at both ends).
 */
export const QUALIFIED_NAME = '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$';
/** A prefix of at most 253 characters, '/', a name of at most 63. */
export const QUALIFIED_NAME_MAX_LENGTH = DNS1123_SUBDOMAIN_MAX_LENGTH + 1 + DNS_LABEL_MAX_LENGTH;

/**
 * Label and annotation keys the operator writes itself (the experiment label, the desired hash,
 * the app.kubernetes.io labels): a user's key there would be overwritten or break the watches.
 */
export const RESERVED_KEY_PREFIXES = ['experiments.sms-app.io/', 'app.kubernetes.io/'] as const;

/** Why a user's label or annotation key cannot be used, or undefined when it can. */
export function metadataKeyProblem(key: string): string | undefined {
  if (key.length > QUALIFIED_NAME_MAX_LENGTH || !new RegExp(QUALIFIED_NAME).test(key)) {
    return `"${key}" is not a label key: an optional DNS prefix and '/', then up to 63 letters, digits, '-', '_' or '.'`;
  }
  const prefix = key.includes('/') ? key.slice(0, key.indexOf('/')) : '';
  if (prefix.length > DNS1123_SUBDOMAIN_MAX_LENGTH) return `"${key}" has a prefix longer than ${DNS1123_SUBDOMAIN_MAX_LENGTH} characters`;
  const reserved = RESERVED_KEY_PREFIXES.find((reservedPrefix) => key.startsWith(reservedPrefix));
  if (reserved !== undefined) return `"${key}" is under ${reserved}, which the operator sets itself`;
  return undefined;
}

/** Why a label value cannot be used, or undefined when it can (the empty value is allowed). */
export function labelValueProblem(value: string): string | undefined {
  if (value.length > LABEL_VALUE_MAX_LENGTH || !new RegExp(OPTIONAL_LABEL_VALUE).test(value)) {
    return `"${value}" is not a label value: up to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit`;
  }
  return undefined;
}
