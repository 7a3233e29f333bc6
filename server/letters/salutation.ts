import type { Lang } from '../i18n/i18n';
import type { TargetKind } from '../targets/targetsRepository';

/**
 * Whom a letter greets, as a diplomat expects: the head of a delegation by title ("Dear Ambassador,"),
 * never the institution's name. French repeats it in the closing formula, so it carries no comma here.
 */
const addressees: Record<TargetKind, Record<Lang, string>> = {
  nato_delegation: { en: 'Ambassador', fr: "Madame l'Ambassadrice, Monsieur l'Ambassadeur" },
  parliamentary_assembly: {
    en: 'members of the delegation',
    fr: 'Mesdames et Messieurs les membres de la délégation',
  },
  minister: { en: 'Minister', fr: 'Madame la Ministre, Monsieur le Ministre' },
};

export function addresseeFor(kind: TargetKind, lang: Lang): string {
  return (addressees[kind] ?? addressees.parliamentary_assembly)[lang];
}
