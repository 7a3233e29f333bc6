import fs from 'node:fs';
import path from 'node:path';
import { loadLetterTemplates } from '../../server/letters/letterTemplates';

const demands = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', '..', 'db', 'seed', 'campaign.json'), 'utf8'),
) as { demands: Array<{ slug: string }> };
const templates = loadLetterTemplates();
const fields = {
  target: 'TARGET',
  addressee: 'ADDRESSEE',
  name: 'NAME',
  town: 'TOWN',
  country: 'COUNTRY',
  ownWords: 'OWN WORDS',
};

describe('letter templates', () => {
  const cases = demands.demands.flatMap((d) => (['en', 'fr'] as const).map((lang) => [d.slug, lang] as const));

  it('exist for all five demands in English and French', () => {
    expect(cases).toHaveLength(10);
    for (const [slug, lang] of cases) expect(templates.has(slug, lang)).toBe(true);
  });

  it.each(cases)(
    '%s (%s): 120–220 words of our own, with the salutation, the own words and the sign-off',
    (slug, lang) => {
      const letter = templates.render(slug, lang, fields);
      const ours = letter
        .replace(/TARGET|ADDRESSEE|NAME|TOWN|COUNTRY|OWN WORDS/g, '')
        .split(/\s+/)
        .filter(Boolean);
      expect(ours.length).toBeGreaterThanOrEqual(120);
      expect(ours.length).toBeLessThanOrEqual(220);
      // The greeting a diplomat expects, by title, before the supporter's words.
      expect(letter).toMatch(lang === 'en' ? /^Dear ADDRESSEE,$/m : /^ADDRESSEE,$/m);
      expect(letter.indexOf('ADDRESSEE')).toBeLessThan(letter.indexOf('OWN WORDS'));
      if (lang === 'fr') expect(letter).toContain("Je vous prie d'agréer, ADDRESSEE, l'expression");
      expect(letter).toContain('\n\nOWN WORDS\n\n');
      expect(letter.endsWith('NAME\nTOWN')).toBe(true);
    },
  );

  it('leaves no gap when the town is blank, and never interprets the supporter’s words', () => {
    const letter = templates.render('civic-freedoms', 'en', { ...fields, town: '', ownWords: '{{name}} <b>&amp;' });
    expect(letter.endsWith('NAME')).toBe(true);
    expect(letter).toContain('{{name}} <b>&amp;');
  });
});
