import { shareSource, sourceFromForm, sourceFromQuery, sourcePart } from '../../server/sources/sourceCode';

describe('source codes', () => {
  it('keep only [A-Za-z0-9._-], at most 64 characters, dropping the rest', () => {
    expect(sourcePart('newsletter-2026_spring.v2')).toBe('newsletter-2026_spring.v2');
    expect(sourcePart('news"><script>alert(1)</script>')).toBe('newsscriptalert1script');
    expect(sourcePart('café du commerce')).toBe('cafducommerce');
    expect(sourcePart('a/b?c=d&e')).toBe('abcde');
    expect(sourcePart('x'.repeat(100))).toBe('x'.repeat(64));
    expect(sourcePart(['a', 'b'])).toBe('');
    expect(sourcePart(undefined)).toBe('');
  });

  it('take ?source= first, else the utm values joined by "/" with empty trailing ones left out', () => {
    expect(sourceFromQuery({ source: 'share-x', utm_source: 'newsletter' })).toBe('share-x');
    expect(sourceFromQuery({ utm_source: 'newsletter', utm_medium: 'email', utm_campaign: 'spring' })).toBe(
      'newsletter/email/spring',
    );
    expect(sourceFromQuery({ utm_source: 'newsletter' })).toBe('newsletter');
    expect(sourceFromQuery({ utm_source: 'newsletter', utm_campaign: 'spring' })).toBe('newsletter//spring');
    expect(sourceFromQuery({ source: '<>', utm_source: 'ok' })).toBe('ok');
    expect(sourceFromQuery({ lang: 'fr' })).toBe('');
  });

  it('check the posted hidden field again, part by part, at most three parts', () => {
    expect(sourceFromForm('newsletter/email/spring')).toBe('newsletter/email/spring');
    expect(sourceFromForm('a/b/c/d/e')).toBe('a/b/c');
    expect(sourceFromForm('evil<b>/x y')).toBe('evilb/xy');
    expect(sourceFromForm(`${'y'.repeat(80)}/z`)).toBe(`${'y'.repeat(64)}/z`);
    expect(sourceFromForm('///')).toBe('');
    expect(sourceFromForm(42)).toBe('');
  });

  it('name share links by channel', () => {
    expect(shareSource('whatsapp')).toBe('share-whatsapp');
  });
});
