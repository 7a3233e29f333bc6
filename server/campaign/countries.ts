const names = new Map<string, Intl.DisplayNames>();

/** A country's name in the given language, from the ICU data Node ships (no name list to maintain). */
export function displayCountry(code: string, lang: string): string {
  let dn = names.get(lang);
  if (!dn) names.set(lang, (dn = new Intl.DisplayNames([lang], { type: 'region', fallback: 'code' })));
  return dn.of(code) ?? code;
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
