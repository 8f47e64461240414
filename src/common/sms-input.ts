// What the app (POST /sms) and the model service (POST /predict) both accept, defined once so that
// a message the app lets through is never refused by the model for its size or type.

/** The largest request body either service reads: 10 kB, far beyond any SMS. */
export const SMS_BODY_LIMIT_BYTES = 10 * 1024;

/** True when a Content-Type header names JSON (parameters such as charset and letter case ignored). */
export function isJsonMediaType(contentType: string | undefined): boolean {
  return contentType?.split(';', 1)[0]?.trim().toLowerCase() === 'application/json';
}
