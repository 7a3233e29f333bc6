import Handlebars from 'handlebars';
import { createI18n } from '../../server/i18n/i18n';
import { t } from '../../server/views/helpers/t';

describe('the t helper', () => {
  const hbs = Handlebars.create();
  hbs.registerHelper('t', t(createI18n()));
  const footer = hbs.compile('{{t "email.footer"}}');
  const greeting = hbs.compile('{{t "delivery.email.greeting" target=target}}');

  it('looks up a text without values once per language, never mixing languages', () => {
    const en = footer({ lang: 'en' });
    const fr = footer({ lang: 'fr' });
    expect(en).toMatch(/this address was used/i);
    expect(fr).toMatch(/cette adresse a été utilisée/);
    // Asked again, in the other order: each language still gets its own text.
    expect(footer({ lang: 'fr' })).toBe(fr);
    expect(footer({ lang: 'en' })).toBe(en);
  });

  it('still interpolates when values are passed', () => {
    expect(greeting({ lang: 'en', target: 'Delegation A' })).toContain('Delegation A');
    expect(greeting({ lang: 'en', target: 'Delegation B' })).toContain('Delegation B');
  });
});
