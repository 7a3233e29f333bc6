const english = new Intl.PluralRules('en');

/** The word that goes with a number, for the command-line tools' English output: ("waits", "wait"). */
export function plural(n: number, one: string, other: string): string {
  return english.select(n) === 'one' ? one : other;
}

/** A number with its noun: "1 signature", "2 signatures", "0 digests". */
export function countOf(n: number, one: string, other = `${one}s`): string {
  return `${n} ${plural(n, one, other)}`;
}
