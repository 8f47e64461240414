// Shared handling of the model commands' flags: node:util parseArgs, then zod, and one clear
// message (exit code 1) for anything wrong.
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import type { z } from 'zod';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function parseFlags<Schema extends z.ZodType>(argv: readonly string[], options: ParseArgsOptionsConfig, schema: Schema, usage: string): z.infer<Schema> {
  let values: Record<string, unknown>;
  try {
    values = parseArgs({ args: [...argv], options: { ...options, help: { type: 'boolean' } }, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${usage}`);
  }
  if (values.help === true) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  delete values.help;
  const parsed = schema.safeParse(values);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  --${issue.path.join('.')}: ${issue.message}`);
    throw new UsageError(`Invalid arguments:\n${lines.join('\n')}\n\n${usage}`);
  }
  return parsed.data;
}

/** Runs a command's main; known errors print their message alone, others their stack. */
export function runCommand(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    const known = error instanceof Error && ['UsageError', 'DatasetError', 'ArtifactError'].includes(error.name);
    const text = error instanceof Error ? (known ? error.message : (error.stack ?? error.message)) : String(error);
    process.stderr.write(`${text}\n`);
    process.exitCode = 1;
  });
}
