/**
 * Waits for a condition that nothing announces (a row recorded by a background pass, a file, a
 * stream's state): checks it every `everyMs` and resolves with its first truthy value, or fails after
 * `timeoutMs` saying what it waited for.
 */
export async function until<T>(
  condition: () => T | null | undefined | false | Promise<T | null | undefined | false>,
  what: string,
  options: number | { timeoutMs?: number; everyMs?: number } = {},
): Promise<T> {
  const { timeoutMs = 5000, everyMs = 5 } = typeof options === 'number' ? { timeoutMs: options } : options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
