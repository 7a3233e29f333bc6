/**
 * Waits for a condition that nothing announces (a row recorded by a background pass, say): checks it
 * every few milliseconds and resolves with its first truthy value, or fails after `timeoutMs` saying
 * what it waited for.
 */
export async function until<T>(
  condition: () => T | null | undefined | false,
  what: string,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = condition();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
