// The client of the model service: POST {modelUrl}/predict {"sms"} → the model's answer, checked
// with zod. One time budget covers the whole call; a connection error (refused, reset, a keep-alive
// socket the server had already closed) is retried once, immediately. Nothing else is retried:
// a slow or failing model must not get more traffic from the app because it is slow or failing.
import http from 'node:http';
import https from 'node:https';
import { z } from 'zod';

export const predictionSchema = z.object({
  result: z.enum(['spam', 'ham']),
  spamProbability: z.number().min(0).max(1),
  modelVersion: z.string().min(1),
  classifier: z.string().optional(),
});
export type Prediction = z.infer<typeof predictionSchema>;

const modelErrorSchema = z.object({ error: z.string() });

/** The model could not answer: down, unreachable, too slow, not ready or failing (the app answers 503). */
export class ModelUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ModelUnavailableError';
  }
}

/** The model answered, but not with a prediction: it refused the message (4xx) or broke the contract. */
export class ModelResponseError extends Error {
  /** The model's status when it answered with an error; undefined when its 200 answer was malformed. */
  readonly status: number | undefined;

  constructor(message: string, status?: number) {
    super(message);
    this.name = 'ModelResponseError';
    this.status = status;
  }
}

export interface ModelClient {
  predict(sms: string): Promise<Prediction>;
  /** True when the model's /readyz answers 200 within the time given. */
  isReady(timeoutMs: number): Promise<boolean>;
}

export interface TransportRequest {
  url: URL;
  method: 'GET' | 'POST';
  /** A JSON body. */
  body?: string;
  signal: AbortSignal;
}
/** Sends one HTTP request and reads the whole answer; rejects on connection errors and on abort. */
export type Transport = (request: TransportRequest) => Promise<{ status: number; body: string }>;

// An answer is a few dozen bytes; anything this large is not the model service talking.
const MAX_ANSWER_BYTES = 1024 * 1024;

/**
 * node:http with a keep-alive pool. Not fetch: with undici's Request/Response objects the app spent
 * about 860 µs of CPU per cache miss under load, with node:http about 560.
 */
export function httpTransport(): Transport {
  const agents = { 'http:': new http.Agent({ keepAlive: true }), 'https:': new https.Agent({ keepAlive: true }) };
  return ({ url, method, body, signal }) =>
    new Promise((resolve, reject) => {
      const secure = url.protocol === 'https:';
      const headers = body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
      const request = (secure ? https : http).request(url, { method, headers, signal, agent: secure ? agents['https:'] : agents['http:'] }, (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_ANSWER_BYTES) request.destroy(new Error(`the answer is larger than ${MAX_ANSWER_BYTES} bytes`));
          else chunks.push(chunk);
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        response.on('close', () => {
          if (!response.complete) reject(new Error('the connection closed before the whole answer arrived'));
        });
      });
      request.on('error', reject);
      request.end(body);
    });
}

export interface ModelClientOptions {
  baseUrl: string;
  timeoutMs: number;
  /** Called before every HTTP call to /predict, a retry included (sms_model_calls_total). */
  onCall?: () => void;
  transport?: Transport;
}

// Codes of errors where the request cannot have reached the model's handler, so sending it again is safe.
const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

function errorCode(error: Error): string | undefined {
  const code = (error as Error & { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** True when the call failed to connect or lost its connection (the code may sit in a `cause`). */
export function isConnectionError(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    const code = errorCode(current);
    if (code !== undefined && CONNECTION_ERROR_CODES.has(code)) return true;
  }
  return false;
}

// What the caller is told, in words that do not reveal the model's address (the log has the details).
const FAILURE_REASONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'it refused the connection',
  ECONNRESET: 'the connection was lost',
  EPIPE: 'the connection was lost',
  UND_ERR_SOCKET: 'the connection was lost',
  UND_ERR_CLOSED: 'the connection was lost',
  ENOTFOUND: 'its host name could not be resolved',
  EAI_AGAIN: 'its host name could not be resolved',
  EHOSTUNREACH: 'it cannot be reached',
  ENETUNREACH: 'it cannot be reached',
};

function describeFailure(error: unknown, signal: AbortSignal): string {
  if (signal.aborted) return 'it did not answer in time';
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    const reason = FAILURE_REASONS[errorCode(current) ?? ''];
    if (reason !== undefined) return reason;
  }
  return 'the call failed';
}

export function createModelClient({ baseUrl, timeoutMs, onCall, transport = httpTransport() }: ModelClientOptions): ModelClient {
  const predictUrl = new URL(`${baseUrl}/predict`);
  const readyUrl = new URL(`${baseUrl}/readyz`);

  async function post(body: string, signal: AbortSignal): Promise<{ status: number; body: string }> {
    const attempt = () => {
      onCall?.();
      return transport({ url: predictUrl, method: 'POST', body, signal });
    };
    try {
      return await attempt();
    } catch (error) {
      if (!isConnectionError(error) || signal.aborted) throw error;
      return attempt();
    }
  }

  return {
    async predict(sms) {
      const signal = AbortSignal.timeout(timeoutMs);
      let response: { status: number; body: string };
      try {
        response = await post(JSON.stringify({ sms }), signal);
      } catch (error) {
        throw new ModelUnavailableError(`the model service is unavailable: ${describeFailure(error, signal)}`, { cause: error });
      }
      if (response.status >= 500) {
        throw new ModelUnavailableError(`the model service is unavailable: it answered ${response.status}`);
      }
      let json: unknown;
      try {
        json = JSON.parse(response.body);
      } catch {
        throw new ModelResponseError(`the model service answered ${response.status} with a body that is not JSON`);
      }
      if (response.status !== 200) {
        const refusal = modelErrorSchema.safeParse(json);
        const reason = refusal.success ? refusal.data.error : 'no reason given';
        const refusedMessage = response.status === 400 || response.status === 413 || response.status === 415;
        throw new ModelResponseError(
          refusedMessage ? `the model service refused the message: ${reason}` : `the model service answered ${response.status}: ${reason}`,
          response.status,
        );
      }
      const prediction = predictionSchema.safeParse(json);
      if (!prediction.success) {
        const problems = prediction.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; ');
        throw new ModelResponseError(`the model service's answer does not match the contract (${problems})`);
      }
      return prediction.data;
    },

    async isReady(readyTimeoutMs) {
      try {
        const response = await transport({ url: readyUrl, method: 'GET', signal: AbortSignal.timeout(readyTimeoutMs) });
        return response.status === 200;
      } catch {
        return false;
      }
    },
  };
}
