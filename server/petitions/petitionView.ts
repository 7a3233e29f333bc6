import type { Request, Response } from 'express';
import { deliveriesView } from '../deliveries/deliveryRecord';
import { responsesView } from '../responses/responses';
import { prepare, sendPrepared, type Prepared } from '../http/caching';
import type { Render } from '../http/render';
import { isLang, type Lang } from '../i18n/i18n';
import type { SignErrors, SignFormValues } from '../signatures/signForm';
import { brusselsDaysBetween } from './closingDate';
import { shareSource, sourceFromQuery, sourceParams } from '../sources/sourceCode';
import type { PetitionPage, PetitionsService } from './petitionsService';

const blankForm: SignFormValues = {
  name: '',
  email: '',
  country: '',
  postcode: '',
  showPublicly: false,
  updates: false,
  source: '',
};

/** The two pages a petition is shown on: its own, and the compact one other sites frame. */
export type PetitionVariant = 'page' | 'embed';
const templates: Record<PetitionVariant, string> = { page: 'petitions/show', embed: 'embed/petition' };

/** Order of the error summary: the order of the fields on the page. */
const fieldOrder = ['name', 'email', 'country', 'postcode'] as const;

/** The ways to share a petition, each marked with its own `source` code. */
export const shareChannels = ['email', 'x', 'facebook', 'whatsapp', 'copy'] as const;
export type ShareChannel = (typeof shareChannels)[number];

/** The petition's address as shared through one channel: `?source=share-<channel>` says where a visit came from. */
export function sharedUrl(url: string, channel: ShareChannel): string {
  return `${url}?source=${shareSource(channel)}`;
}

/** The share buttons of the petition and thanks pages, and the link to copy, each with its source code. */
export function shareLinks(url: string, title: string) {
  const at = (channel: ShareChannel) => sharedUrl(url, channel);
  const text = encodeURIComponent(title);
  return {
    email: `mailto:?subject=${text}&body=${encodeURIComponent(`${title}\n\n${at('email')}`)}`,
    x: `https://x.com/intent/post?text=${text}&url=${encodeURIComponent(at('x'))}`,
    facebook: `https://www.facebook.com/sharer/sharer.php?u=${encodeURIComponent(at('facebook'))}`,
    whatsapp: `https://wa.me/?text=${encodeURIComponent(`${title} ${at('whatsapp')}`)}`,
    copy: at('copy'),
  };
}

/** A description for search results and link previews: the first paragraph, cut at a word. */
function summary(body: string, max = 200): string {
  const first = body.split('\n')[0]!.trim();
  if (first.length <= max) return first;
  return `${first.slice(0, first.lastIndexOf(' ', max))}…`;
}

export type PetitionView = ReturnType<typeof createPetitionView>;

const knownParams = new Set<string>(['lang', ...sourceParams]);

/**
 * The plain address, or it with one known `?lang=` and the source parameters, each once: the only
 * requests served from the render kept for everyone (a source only fills in its hidden field, in a
 * copy of those bytes). Anything else (`?lang=zz&lang=zz`, other parameters) is rendered for its
 * visitor alone.
 */
function canonicalQuery(query: Request['query']): boolean {
  return Object.entries(query).every(
    ([name, value]) => knownParams.has(name) && typeof value === 'string' && (name !== 'lang' || isLang(value)),
  );
}

/** The blank form's hidden source field, as the sign form partial writes it (once per page). */
const blankSourceField = 'name="source" value=""';

/**
 * The kept bytes with the visitor's source in the hidden field: a copy, the kept page is untouched.
 * The value holds only [A-Za-z0-9._/-] (sourceFromQuery), so it needs no escaping.
 */
function withSource(page: Prepared, source: string): Prepared {
  if (!source) return page;
  // Share links all carry a source: each (page, source) is made once, not on every visit.
  const key = `${page.etag}|${source}`;
  let copy = withSources.get(key);
  if (!copy) {
    copy = prepare(page.body.toString().replace(blankSourceField, `name="source" value="${source}"`));
    if (withSources.size >= 500) withSources.delete(withSources.keys().next().value!);
    withSources.set(key, copy);
  }
  return copy;
}
const withSources = new Map<string, Prepared>();

/**
 * The petition page, shown on GET and again, with the signer's values and messages, on a 400.
 * The blank page is the same bytes for every visitor: rendered once per petition and language until
 * its data changes, and then served as prepared bytes with their ETag, with no render at all.
 */
export function createPetitionView(deps: { render: Render; petitions: PetitionsService; baseUrl: string }) {
  const { render, petitions, baseUrl } = deps;
  // Each entry is a render under way or done: the viewers who miss it meanwhile wait for that one.
  const cache = new Map<string, { version: number; ready: Promise<Prepared> }>();

  async function context(
    lang: Lang,
    page: PetitionPage,
    form: { values: SignFormValues; errors: SignErrors },
    variant: PetitionVariant,
  ) {
    const { petition } = page;
    const url = `${baseUrl}/petitions/${petition.slug}`;
    const top = page.countryCounts[0]?.count ?? 0;
    const errorList = fieldOrder
      .filter((field) => form.errors[field])
      .map((field) => ({ field, messageKey: form.errors[field] }));
    return {
      // The embed: its own small layout, and a form that stays in the frame.
      ...(variant === 'embed' ? { embed: true, layout: 'embed' } : {}),
      // The language links: built on the petition's own address, never on the query a visitor sent.
      languagePath: `/petitions/${petition.slug}`,
      title: petition.title,
      description: summary(petition.body),
      canonicalUrl: url,
      petition,
      open: petition.state === 'open',
      // Days are Brussels days; the page is read again at least every COUNT_REFRESH_SECONDS, and at
      // the closing time itself (petitionsService), so the count of days left follows the calendar.
      closing:
        petition.state === 'open' && petition.closesAt !== null
          ? (({ at, days }) => ({ at, daysLeft: days, today: days === 0 }))({
              at: petition.closesAt,
              days: brusselsDaysBetween(petitions.now(), petition.closesAt),
            })
          : undefined,
      closedAt: petition.state === 'closed' ? petition.closedAt : null,
      count: page.count,
      goal: petition.goal,
      progressMax: Math.max(petition.goal, page.count),
      countryCounts: page.countryCounts.map((c) => ({ ...c, max: top })),
      recentSigners: page.recentSigners,
      targets: page.targets,
      record: deliveriesView(petition.slug, page.deliveries),
      answers: responsesView(page.responses),
      share: shareLinks(url, petition.title),
      countries: await petitions.countryChoices(lang),
      form: { values: form.values, errors: form.errors, errorList, hasErrors: errorList.length > 0 },
    };
  }

  return {
    /**
     * The blank page (or the embed's), public: the route marks it cacheable (Cache-Control, Vary).
     * A `?source=` (or utm_*) is carried into the form's hidden field without a render of its own.
     */
    async show(req: Request, res: Response, page: PetitionPage, variant: PetitionVariant = 'page'): Promise<void> {
      const lang = res.locals.lang as Lang;
      const blank = { values: { ...blankForm, source: sourceFromQuery(req.query) }, errors: {} };
      if (!canonicalQuery(req.query))
        return render(req, res, templates[variant], await context(lang, page, blank, variant));
      const slug = page.petition.slug;
      const key = `${variant}:${lang}:${slug}`;
      const version = petitions.version();
      let entry = cache.get(key);
      if (!entry || entry.version !== version) {
        // Read again now: what page() returns after `version` was read is at least that recent (it
        // keeps nothing read across an invalidation), so these bytes may carry its number. Bytes
        // rendered from older data would be kept under a newer version, and outlive the interval.
        const ready = (async () => {
          const fresh = (await petitions.page(slug, lang)) ?? page;
          const empty = { values: blankForm, errors: {} };
          return prepare(render.html(req, res, templates[variant], await context(lang, fresh, empty, variant)));
        })();
        const made = (entry = { version, ready });
        cache.set(key, made);
        ready.catch(() => cache.get(key) === made && cache.delete(key));
      }
      sendPrepared(res, withSource(await entry.ready, blank.values.source));
    },

    async showWithErrors(
      req: Request,
      res: Response,
      page: PetitionPage,
      values: SignFormValues,
      errors: SignErrors,
      variant: PetitionVariant = 'page',
    ): Promise<void> {
      const lang = res.locals.lang as Lang;
      render(req, res, templates[variant], await context(lang, page, { values, errors }, variant), 400);
    },
  };
}
