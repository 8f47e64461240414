// Zod issues as lines that name the field the way the API server does (spec.traffic.weights.stable:
// ...), so an operator log or a status condition points the user at the same place kubectl would.
import type { z } from 'zod';

export function issueFieldPath(path: readonly PropertyKey[], root = ''): string {
  let text = root;
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else text += text === '' ? String(segment) : `.${String(segment)}`;
  }
  return text;
}

/** One line per issue: `<field path>: <message>`, the path starting at `root` (e.g. 'spec'). */
export function formatIssues(error: z.ZodError, root = ''): string[] {
  return error.issues.map((issue) => `${issueFieldPath(issue.path, root) || '<root>'}: ${issue.message}`);
}
