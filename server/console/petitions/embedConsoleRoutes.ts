import { Router } from 'express';
import type { AdminRender } from '../../admin/adminRender';
import { requireRole } from '../../admin/requireRole';
import { notFound } from '../../errors';
import type { Lang } from '../../i18n/i18n';
import { xmlText } from '../../embed/badge';
import type { PetitionAdminService } from './petitionAdminService';

/**
 * A petition's reach: the snippet partners paste to embed its sign form (with a live preview, made
 * by that very snippet), its counter image, and which sources its signers came from.
 */
export function embedConsoleRoutes(deps: {
  petitionAdmin: PetitionAdminService;
  render: AdminRender;
  baseUrl: string;
}): Router {
  const { petitionAdmin, render, baseUrl } = deps;
  const router = Router();

  router.get('/petitions/:slug/embed', requireRole('viewer'), async (req, res) => {
    const petition = await petitionAdmin.find(String(req.params.slug));
    if (!petition) throw notFound();
    const lang = res.locals.lang as Lang;
    const title = petition.texts[lang]?.title ?? petition.texts.en?.title ?? petition.slug;
    const badge = `${baseUrl}/petitions/${petition.slug}/badge.svg`;
    const sources = await petitionAdmin.signaturesBySource(petition.id);
    render(req, res, 'petitions/embed', {
      titleKey: 'adminEmbed.title',
      section: 'petitions',
      petition,
      petitionTitle: title,
      snippet: `<script src="${baseUrl}/embed.js" data-petition="${petition.slug}" async></script>`,
      snippetDiv:
        `<div data-undersigned-petition="${petition.slug}" data-lang="fr"></div>\n` +
        `<script src="${baseUrl}/embed.js" async></script>`,
      badgeSnippet: `<a href="${baseUrl}/petitions/${petition.slug}"><img src="${badge}" alt="${xmlText(title)}"></a>`,
      badgeMarkdown: `[![${title.replace(/[[\]]/g, '')}](${badge})](${baseUrl}/petitions/${petition.slug})`,
      sources,
      sourcesTotal: sources.reduce((sum, s) => sum + s.count, 0),
    });
  });

  return router;
}
