// The body of POST /sms, checked the way the model service checks its own: a JSON object with a
// non-empty string "sms" and an optional "guess". Every refusal names the problem.
import { z } from 'zod';
import { isJsonMediaType, SMS_BODY_LIMIT_BYTES } from '../common/sms-input.ts';

/** The model service's limit too, so whatever the app accepts the model accepts. */
export const MAX_BODY_BYTES = SMS_BODY_LIMIT_BYTES;

export const smsRequestSchema = z.strictObject(
  {
    sms: z
      .string({ error: (issue) => (issue.input === undefined ? '"sms" is required: send {"sms": "the message"}' : '"sms" must be a string') })
      .refine((sms) => sms.trim() !== '', '"sms" must not be empty'),
    guess: z.enum(['spam', 'ham'], { error: '"guess" must be "spam" or "ham" when given' }).optional(),
  },
  { error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown field ${issue.keys.map((key) => `"${key}"`).join(', ')}: only "sms" and "guess" are accepted` : 'the body must be a JSON object such as {"sms": "the message"}') },
);
export type SmsRequest = z.infer<typeof smsRequestSchema>;

export type ParsedSmsRequest = { ok: true; request: SmsRequest } | { ok: false; error: string };

/** What is wrong with the request's Content-Type (answered with 415), or undefined when it is JSON. */
export function contentTypeProblem(contentType: string | undefined): string | undefined {
  if (isJsonMediaType(contentType)) return undefined;
  return `Content-Type must be application/json (${contentType === undefined ? 'none was given' : `got "${contentType}"`})`;
}

/** Checks the body of POST /sms (answered with 400 when wrong); type and size are checked before. */
export function parseSmsRequest(body: string): ParsedSmsRequest {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    return { ok: false, error: `the body is not valid JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  const result = smsRequestSchema.safeParse(json);
  if (!result.success) return { ok: false, error: result.error.issues.map((issue) => issue.message).join('; ') };
  return { ok: true, request: result.data };
}
