// Sticky sessions that survive a weighted split.
//
// The seed relied on a DestinationRule consistentHash cookie. That cannot pin a user to a version:
// Envoy first picks a weighted subset for every request and only then hashes the cookie to a pod
// inside it (istio/istio#9764, #17181, #33343). Instead, on the experiment host:
//   1. one route per live version matches the cookie `<name>=<version>` and sends the request there;
//   2. the weighted route follows; each of its destinations adds `Set-Cookie: <name>=<version>`, so
//      the version a user was dealt the first time is the one rule 1 sends them to until the TTL ends.
// Envoy matches these regexes with RE2 against the whole value; the patterns below use only syntax
// RE2 and JavaScript read the same way, and are anchored, so a full match and a search agree.

/** Escapes RE2/JavaScript metacharacters. */
export function escapeRegex(literal: string): string {
  return literal.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}

/**
 * Matches a Cookie header containing `<cookie>=<version>` as a whole cookie: at the start or after
 * `;` and optional spaces, and followed by `;` or the end (so `xsms-app-version=v2` and
 * `sms-app-version=v20` do not match).
 */
export function stickyCookieRegex(cookie: string, version: string): string {
  return `^(.*?;\\s*)?${escapeRegex(cookie)}=${escapeRegex(version)}(;.*)?$`;
}

/** Path=/ so the cookie covers the whole UI and its API calls. */
export function stickyCookieHeader(cookie: string, version: string, maxAgeSeconds: number): string {
  return `${cookie}=${version}; Max-Age=${maxAgeSeconds}; Path=/`;
}

/**
 * Matches a Host/:authority header with or without a port: behind a NodePort or port-forward the
 * browser sends `sms-app.local:31080`, which an `exact` match would miss. In any case, too: Envoy
 * picks the virtual host case-insensitively but matches header regexes as written, so without
 * `(?i:…)` a `Host: SMS-App.local` would reach the virtual host and then match no route (404).
 */
export function authorityRegex(host: string): string {
  return `^(?i:${escapeRegex(host)})(:[0-9]+)?$`;
}
