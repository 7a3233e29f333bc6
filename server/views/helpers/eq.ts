/** `{{#if (eq a b)}}`. */
export function eq(a: unknown, b: unknown): boolean {
  return a === b;
}
