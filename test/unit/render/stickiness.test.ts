import assert from 'node:assert/strict';
import { authorityRegex, durationToSeconds, escapeRegex, stickyCookieHeader, stickyCookieRegex } from '../../../src/operator/render/index.ts';

describe('render: sticky-session helpers', () => {
  describe('durationToSeconds (cookie Max-Age)', () => {
    const table: [string, number][] = [
      ['3600s', 3600],
      ['1h', 3600],
      ['90m', 5400],
      ['1h30m', 5400],
      ['1.5h', 5400],
      ['0.1h', 360],
      ['1s', 1],
      ['1500ms', 2],
      ['9600h', 34_560_000],
    ];
    for (const [ttl, seconds] of table) {
      it(`${ttl} -> ${seconds}`, () => assert.equal(durationToSeconds(ttl), seconds));
    }
    for (const bad of ['', '1', 'h', '1 h', '1d', '-1h', 'an hour', '1h 30m']) {
      it(`rejects '${bad}'`, () => assert.throws(() => durationToSeconds(bad), /not a duration/));
    }
  });

  describe('stickyCookieRegex', () => {
    const full = (regex: string, value: string) => new RegExp(`^(?:${regex})$`).test(value);
    const regex = stickyCookieRegex('sms-app-version', 'v2');

    it('is the documented pattern', () => {
      assert.equal(regex, '^(.*?;\\s*)?sms-app-version=v2(;.*)?$');
    });

    const table: [string, boolean][] = [
      ['sms-app-version=v2', true],
      ['a=b; sms-app-version=v2', true],
      ['a=b;sms-app-version=v2', true],
      ['sms-app-version=v2; a=b', true],
      ['a=b; sms-app-version=v2; c=d', true],
      ['xsms-app-version=v2', false],
      ['sms-app-version=v20', false],
      ['sms-app-version=v1', false],
      ['other=sms-app-version=v2', false],
      ['', false],
    ];
    for (const [cookie, expected] of table) {
      it(`${expected ? 'matches' : 'does not match'} "${cookie}"`, () => assert.equal(full(regex, cookie), expected));
    }

    it('escapes metacharacters in the cookie name and version', () => {
      const dotted = stickyCookieRegex('a.b+c', 'v1.0');
      assert.ok(full(dotted, 'a.b+c=v1.0'));
      assert.ok(!full(dotted, 'aXbbc=v1.0'));
      assert.ok(!full(dotted, 'a.b+c=v1x0'));
    });
  });

  it('escapeRegex escapes every RE2 metacharacter', () => {
    const special = '\\^$.*+?()[]{}|';
    assert.ok(new RegExp(`^${escapeRegex(special)}$`).test(special));
  });

  it('stickyCookieHeader is name=version; Max-Age; Path=/', () => {
    assert.equal(stickyCookieHeader('sms-app-version', 'v2', 3600), 'sms-app-version=v2; Max-Age=3600; Path=/');
  });

  it('authorityRegex takes the host with or without a port, and nothing else', () => {
    const regex = new RegExp(authorityRegex('sms-app.local'));
    assert.ok(regex.test('sms-app.local'));
    assert.ok(regex.test('sms-app.local:8080'));
    assert.ok(!regex.test('smsXapp.local'));
    assert.ok(!regex.test('sms-app.local.evil'));
    assert.ok(!regex.test('stable.sms-app.local'));
    assert.ok(regex.test('SMS-App.local:8080'), 'host names are case-insensitive');
  });
});
