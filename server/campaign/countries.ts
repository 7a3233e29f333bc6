const displayNames = new Map<string, Intl.DisplayNames>();
// Intl lookups are slow enough to show when a digest names the country on 10,000 rows: keep them.
const names = new Map<string, string>();

/** A country's name in the given language, from the ICU data Node ships (no name list to maintain). */
export function displayCountry(code: string, lang: string): string {
  const key = `${lang}:${code}`;
  let name = names.get(key);
  if (name === undefined) {
    let dn = displayNames.get(lang);
    if (!dn) displayNames.set(lang, (dn = new Intl.DisplayNames([lang], { type: 'region', fallback: 'code' })));
    name = dn.of(code) ?? code;
    if (names.size < 10_000) names.set(key, name);
  }
  return name;
}

export interface CountryOption {
  code: string;
  name: string;
}

export interface CountryChoices {
  nato: CountryOption[];
  others: CountryOption[];
}

/** Sorted in the reader's language: NATO members first, then every other country. */
export function countryChoices(codes: string[], natoCodes: Set<string>, lang: string): CountryChoices {
  const collator = new Intl.Collator(lang);
  const options = codes
    .map((code) => ({ code, name: displayCountry(code, lang) }))
    .sort((a, b) => collator.compare(a.name, b.name));
  return {
    nato: options.filter((o) => natoCodes.has(o.code)),
    others: options.filter((o) => !natoCodes.has(o.code)),
  };
}
