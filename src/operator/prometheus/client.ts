// A small client of Prometheus' HTTP API: instant queries only (/api/v1/query), every answer
// checked with zod, every failure returned as a typed problem instead of thrown, so the caller
// can turn it into a condition and never into a verdict from missing data.
import { z } from 'zod';

export type PrometheusProblem =
  /** No HTTP answer at all: refused, DNS, timeout. */
  | { kind: 'unreachable'; message: string }
  /** An HTTP answer other than success, or Prometheus' own {"status":"error"}. */
  | { kind: 'bad-status'; message: string; httpStatus: number }
  /** A success that is not the shape the API documents, or values that are not counts. */
  | { kind: 'bad-answer'; message: string }
  /** The query ran, but a series the signal needs is not there (yet). */
  | { kind: 'series-missing'; message: string };

export type Result<T> = { ok: true; value: T } | { ok: false; problem: PrometheusProblem };

export const failure = (problem: PrometheusProblem): { ok: false; problem: PrometheusProblem } => ({ ok: false, problem });

/** One raw sample: Prometheus' timestamp in seconds and the value as it was scraped. */
export interface Sample {
  timestamp: number;
  value: number;
}

/** One series of an answer: its labels and its samples in time order (one for an instant vector). */
export interface Series {
  labels: Readonly<Record<string, string>>;
  samples: readonly Sample[];
}

// Values arrive as strings ("12", "NaN", "+Inf"): JSON has no non-finite numbers.
const sampleSchema = z.tuple([z.number(), z.string()]).transform(([timestamp, text]) => ({ timestamp, value: Number(text) }));
const labelsSchema = z.record(z.string(), z.string());
const dataSchema = z.discriminatedUnion('resultType', [
  z.object({ resultType: z.literal('vector'), result: z.array(z.object({ metric: labelsSchema, value: sampleSchema })) }),
  z.object({ resultType: z.literal('matrix'), result: z.array(z.object({ metric: labelsSchema, values: z.array(sampleSchema) })) }),
  z.object({ resultType: z.literal('scalar'), result: sampleSchema }),
  z.object({ resultType: z.literal('string'), result: z.tuple([z.number(), z.string()]) }),
]);
export const queryAnswerSchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('success'), data: dataSchema, warnings: z.array(z.string()).optional() }),
  z.object({ status: z.literal('error'), errorType: z.string(), error: z.string() }),
]);

const describeIssues = (error: z.ZodError) =>
  error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');

/** Reads a /api/v1/query answer (HTTP status and body text) into series, or the problem with it. */
export function parseQueryAnswer(httpStatus: number, body: string): Result<Series[]> {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    if (httpStatus < 200 || httpStatus > 299) return failure({ kind: 'bad-status', httpStatus, message: `Prometheus answered HTTP ${httpStatus}: ${body.slice(0, 200)}` });
    return failure({ kind: 'bad-answer', message: `Prometheus answered HTTP ${httpStatus} with a body that is not JSON: ${body.slice(0, 200)}` });
  }
  const parsed = queryAnswerSchema.safeParse(json);
  if (!parsed.success) {
    if (httpStatus < 200 || httpStatus > 299) return failure({ kind: 'bad-status', httpStatus, message: `Prometheus answered HTTP ${httpStatus}: ${body.slice(0, 200)}` });
    return failure({ kind: 'bad-answer', message: `Prometheus' answer is not a query result: ${describeIssues(parsed.error)}` });
  }
  const answer = parsed.data;
  if (answer.status === 'error') return failure({ kind: 'bad-status', httpStatus, message: `Prometheus refused the query (${answer.errorType}): ${answer.error}` });
  if (httpStatus < 200 || httpStatus > 299) return failure({ kind: 'bad-status', httpStatus, message: `Prometheus answered HTTP ${httpStatus} to a successful query` });
  const { data } = answer;
  switch (data.resultType) {
    case 'vector':
      return { ok: true, value: data.result.map((series) => ({ labels: series.metric, samples: [series.value] })) };
    case 'matrix':
      return { ok: true, value: data.result.map((series) => ({ labels: series.metric, samples: series.values })) };
    default:
      return failure({ kind: 'bad-answer', message: `expected series (a vector or matrix), got a ${data.resultType}` });
  }
}

export interface PrometheusClient {
  readonly baseUrl: string;
  /** Runs an instant query, at `time` (seconds) or now. */
  query(promql: string, time?: number): Promise<Result<Series[]>>;
}

export interface ClientOptions {
  /** Prometheus' base URL, e.g. http://prometheus-operated.monitoring:9090 (a path prefix is kept). */
  baseUrl: string;
  timeoutMs?: number;
}

export function createPrometheusClient({ baseUrl, timeoutMs = 5_000 }: ClientOptions): PrometheusClient {
  const endpoint = `${baseUrl.replace(/\/+$/, '')}/api/v1/query`;
  return {
    baseUrl,
    async query(promql, time) {
      const form = new URLSearchParams({ query: promql });
      if (time !== undefined) form.set('time', String(time));
      let response: Response;
      let body: string;
      try {
        // POST with a form body, so long selectors never hit a URL length limit.
        response = await fetch(endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
          body: form,
          signal: AbortSignal.timeout(timeoutMs),
        });
        body = await response.text();
      } catch (error) {
        const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
        return failure({ kind: 'unreachable', message: `cannot reach Prometheus at ${endpoint}: ${error instanceof Error ? error.message : String(error)}${cause}` });
      }
      return parseQueryAnswer(response.status, body);
    },
  };
}
