// Bounded polling for integration tests: retries an assertion until it passes or time runs out,
// then fails with the last assertion's message (never a bare timeout).
export async function eventually<T>(
  what: string,
  check: () => Promise<T>,
  { timeoutMs = 30_000, intervalMs = 100 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      return await check();
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  const detail = lastError instanceof Error ? lastError.message : String(lastError);
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}: ${detail}`);
}
