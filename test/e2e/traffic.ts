// Real requests for the end-to-end checks: POST /sms with a chosen Host header (what the Istio
// gateway and NGINX route on) and cookie, through a port-forward. node:http, because fetch does not
// let a caller set Host.
import { request } from 'node:http';
import { z } from 'zod';

/** The app's answer to POST /sms (the fields the checks read). */
export const smsAnswerSchema = z.looseObject({
  result: z.enum(['spam', 'ham']),
  spamProbability: z.number().min(0).max(1),
  modelVersion: z.string(),
  appVersion: z.string(),
  cached: z.boolean(),
});
export type SmsAnswer = z.output<typeof smsAnswerSchema>;

export interface Answered {
  answer: SmsAnswer;
  /** The Set-Cookie headers of the response. */
  setCookie: string[];
}

export interface Target {
  /** Local port of a port-forward to the gateway or ingress controller. */
  port: number;
  host: string;
  cookie?: string;
}

/** POSTs one message; rejects with status and body on anything but a 200 JSON answer. */
export function postSms(target: Target, sms: string): Promise<Answered> {
  const body = JSON.stringify({ sms });
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        host: '127.0.0.1',
        port: target.port,
        method: 'POST',
        path: '/sms',
        timeout: 15_000,
        headers: {
          host: target.host,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          ...(target.cookie ? { cookie: target.cookie } : {}),
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (response.statusCode !== 200) {
            reject(new Error(`POST /sms on ${target.host}: HTTP ${response.statusCode}: ${text.slice(0, 300)}`));
            return;
          }
          try {
            resolve({ answer: smsAnswerSchema.parse(JSON.parse(text)), setCookie: response.headers['set-cookie'] ?? [] });
          } catch (error) {
            reject(new Error(`POST /sms on ${target.host}: unexpected answer ${text.slice(0, 300)}: ${String(error)}`));
          }
        });
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error(`POST /sms on ${target.host}: no answer in 15 s`)));
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

let serial = 0;
/** A message no cache has seen, so that every request reaches a model. */
export function freshMessage(): string {
  serial += 1;
  return `e2e ${process.pid}-${serial}-${Date.now()}: are you free for lunch today?`;
}

/** Sends `count` requests, a few at a time, each a new client (or the given cookie's client). */
export async function sendMany(target: Target, count: number, concurrency = 8): Promise<Answered[]> {
  const answers: Answered[] = [];
  for (let start = 0; start < count; start += concurrency) {
    const batch = Array.from({ length: Math.min(concurrency, count - start) }, () => postSms(target, freshMessage()));
    answers.push(...(await Promise.all(batch)));
  }
  return answers;
}

/** The cookie value a response assigns, e.g. "sms-app-version=v2" from its Set-Cookie header. */
export function assignedCookie(answered: Answered, cookieName: string): string | undefined {
  for (const header of answered.setCookie) {
    const [pair] = header.split(';');
    if (pair?.trim().startsWith(`${cookieName}=`)) return pair.trim();
  }
  return undefined;
}
