import type { Request, Response } from 'express';
import type { Render } from '../http/render';
import type { Lang } from '../i18n/i18n';
import type { SignErrors, SignFormValues } from '../signatures/signForm';
import type { PetitionPage, PetitionsService } from './petitionsService';

const blankForm: SignFormValues = {
  name: '',
  email: '',
  country: '',
  postcode: '',
  showPublicly: false,
  updates: false,
};

/** Order of the error summary: the order of the fields on the page. */
const fieldOrder = ['name', 'email', 'country', 'postcode'] as const;

function shareLinks(url: string, title: string) {
  const u = encodeURIComponent(url);
  const text = encodeURIComponent(title);
  return {
    email: `mailto:?subject=${text}&body=${encodeURIComponent(`${title}\n\n${url}`)}`,
    x: `https://x.com/intent/post?text=${text}&url=${u}`,
    facebook: `https://www.facebook.com/sharer/sharer.php?u=${u}`,
    whatsapp: `https://wa.me/?text=${encodeURIComponent(`${title} ${url}`)}`,
  };
}

/** A description for search results and link previews: the first paragraph, cut at a word. */
function summary(body: string, max = 200): string {
  const first = body.split('\n')[0]!.trim();
  if (first.length <= max) return first;
  return `${first.slice(0, first.lastIndexOf(' ', max))}…`;
}

/** The petition page, shown on GET and again, with the signer's values and messages, on a 400. */
export function renderPetitionPage(
  render: Render,
  petitions: PetitionsService,
  baseUrl: string,
  req: Request,
  res: Response,
  page: PetitionPage,
  form: { values: SignFormValues; errors: SignErrors } = { values: blankForm, errors: {} },
  status = 200,
): void {
  const lang = res.locals.lang as Lang;
  const { petition } = page;
  const url = `${baseUrl}/petitions/${petition.slug}`;
  const top = page.countryCounts[0]?.count ?? 0;
  const errorList = fieldOrder
    .filter((field) => form.errors[field])
    .map((field) => ({ field, messageKey: form.errors[field] }));
  render(
    req,
    res,
    'petitions/show',
    {
      title: petition.title,
      description: summary(petition.body),
      canonicalUrl: url,
      petition,
      open: petition.state === 'open',
      count: page.count,
      goal: petition.goal,
      progressMax: Math.max(petition.goal, page.count),
      countryCounts: page.countryCounts.map((c) => ({ ...c, max: top })),
      recentSigners: page.recentSigners,
      targets: page.targets,
      share: shareLinks(url, petition.title),
      shareUrl: url,
      countries: petitions.countryChoices(lang),
      form: { values: form.values, errors: form.errors, errorList, hasErrors: errorList.length > 0 },
    },
    status,
  );
}
