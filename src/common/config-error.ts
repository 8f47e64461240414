// Configuration errors of the three entry points (operator, app, model service), in one shape:
// every problem on its own line, so a bad Deployment or command line is fixed in one go.

export class ConfigError extends Error {
  readonly problems: readonly string[];

  /** `heading` starts the message ("Invalid configuration"); `footer`, when given, ends it. */
  constructor(heading: string, problems: readonly string[], footer?: string) {
    const lines = [`${heading}:`, ...problems.map((problem) => `  - ${problem}`)];
    if (footer !== undefined) lines.push(footer);
    super(lines.join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/**
 * The configuration, or the process ends: a ConfigError is printed to stderr as it is (no stack,
 * no log framing: it is meant for the person who set the variables) and the exit code is
 * `exitCode`. Any other error is not a configuration problem and is thrown on.
 */
export function loadConfigOrExit<T>(load: () => T, exitCode: number): T {
  try {
    return load();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(exitCode);
  }
}
