import assert from 'node:assert/strict';
import { contentTypeProblem, parseSmsRequest } from '../../../src/app/sms-request.ts';

describe('POST /sms body', () => {
  it('accepts a message with and without a guess', () => {
    assert.deepEqual(parseSmsRequest('{"sms":"hello"}'), { ok: true, request: { sms: 'hello' } });
    assert.deepEqual(parseSmsRequest('{"sms":"hello","guess":"ham"}'), { ok: true, request: { sms: 'hello', guess: 'ham' } });
  });

  const refusals: Array<[string, string, RegExp]> = [
    ['invalid JSON', '{"sms":', /^the body is not valid JSON: /],
    ['an empty body', '', /^the body is not valid JSON/],
    ['a JSON array', '["x"]', /^the body must be a JSON object/],
    ['a JSON string', '"x"', /^the body must be a JSON object/],
    ['null', 'null', /^the body must be a JSON object/],
    ['a missing sms', '{}', /^"sms" is required/],
    ['a numeric sms', '{"sms":42}', /^"sms" must be a string$/],
    ['a null sms', '{"sms":null}', /^"sms" must be a string$/],
    ['an empty sms', '{"sms":""}', /^"sms" must not be empty$/],
    ['a blank sms', '{"sms":"  \\n "}', /^"sms" must not be empty$/],
    ['an unknown guess', '{"sms":"x","guess":"maybe"}', /^"guess" must be "spam" or "ham" when given$/],
    ['a misspelt field', '{"sms":"x","gues":"spam"}', /^unknown field "gues": only "sms" and "guess" are accepted$/],
  ];
  for (const [name, body, message] of refusals) {
    it(`refuses ${name}`, () => {
      const parsed = parseSmsRequest(body);
      assert.equal(parsed.ok, false);
      if (!parsed.ok) assert.match(parsed.error, message);
    });
  }

  it('accepts JSON content types only, and says what it got', () => {
    assert.equal(contentTypeProblem('application/json'), undefined);
    assert.equal(contentTypeProblem('Application/JSON;charset=UTF-8'), undefined);
    assert.equal(contentTypeProblem(undefined), 'Content-Type must be application/json (none was given)');
    assert.equal(contentTypeProblem('text/plain'), 'Content-Type must be application/json (got "text/plain")');
    assert.match(contentTypeProblem('application/json-patch+json') ?? '', /got "application\/json-patch\+json"/);
    assert.match(contentTypeProblem('') ?? '', /got ""/);
  });
});
