import { Router, type Request, type Response } from 'express';
import type { AdminRender } from '../../admin/adminRender';
import type { AuditLog } from '../../admin/auditLog';
import { currentOrganiser, requireRole } from '../../admin/requireRole';
import type { DashboardService } from '../dashboard/dashboardService';
import type { Erasure } from '../signatures/erasure';
import type { Retention } from '../signatures/retention';
import type { Lang } from '../../i18n/i18n';
import { outboxErasureRepository } from '../../mail/outboxErasureRepository';
import type { PetitionsRepository } from '../../petitions/petitionsRepository';
import { lettersPrivacyRepository } from '../../letters/lettersPrivacyRepository';
import type { LettersService } from '../../letters/lettersService';
import { dayMs } from '../../time/dates';

/** How the audit log names a letter (the subject of a release or a drop). */
export const letterRef = (id: number) => `letter #${id}`;

/**
 * An erasure request reaches the person's letters (their texts and similarity bands go with them),
 * and the audit entries that name those letters.
 */
export function registerLettersErasure(erasure: Erasure): void {
  erasure.addEraser({
    table: 'letters',
    async identify(canonical, db) {
      const { ids, names, emails } = await lettersPrivacyRepository(db).writerOf(canonical);
      return { names, emails, refs: ids.map(letterRef) };
    },
    erase: (person, tx) =>
      lettersPrivacyRepository(tx).eraseByEmail(person.canonical, [person.email, ...person.emails]),
  });
}

/** The letter a mail is about: its `letterId`, or the letter its status or confirmation link names. */
function letterOfMail(params: Record<string, unknown>): number | undefined {
  if (typeof params.letterId === 'number') return params.letterId;
  for (const url of [params.statusUrl, params.confirmUrl]) {
    const id = typeof url === 'string' ? /\/letters\/(\d{1,15})\.[\w-]{27}(?:\/|$)/.exec(url)?.[1] : undefined;
    if (id) return Number(id);
  }
  return undefined;
}

/**
 * Letters are anonymised `days` after they reached a final state (SECURITY 19), with the retention
 * run of the signatures; any mail still held about them (to the writer, or the letter itself) goes
 * with them. States and the per-country counters stay: the public counts do not change.
 */
export function registerLettersRetention(retention: Retention, days: number): void {
  retention.addStep({
    async run(now, tx) {
      const outbox = outboxErasureRepository(tx);
      const ids = new Set(await lettersPrivacyRepository(tx).anonymiseFinishedBefore(now - days * dayMs));
      let mailDeleted = 0;
      for (let after = 0; ids.size > 0;) {
        const rows = await outbox.page(after, 500);
        if (rows.length === 0) break;
        for (const row of rows) {
          after = row.id;
          const letterId = row.kind.startsWith('letter') ? letterOfMail(row.params) : undefined;
          if (letterId !== undefined && ids.has(letterId) && (await outbox.remove(row.id))) mailDeleted++;
        }
      }
      return { changed: ids.size, mailDeleted, details: { lettersAnonymised: ids.size, letterDays: days } };
    },
  });
}

/** The dashboard shows the letters written about the petition's demand, by the target's country. */
export function registerLettersDashboard(
  dashboard: DashboardService,
  letters: LettersService,
  petitions: PetitionsRepository,
): void {
  dashboard.addSection({
    id: 'letters',
    partial: 'admin/letters',
    async load(petition, lang) {
      const demandSlug = (await petitions.findById(petition.id, lang))?.demandSlug;
      const data = demandSlug ? await letters.demandLetters(demandSlug, lang) : undefined;
      if (!data) return undefined;
      return { ...data, held: (await letters.held()).filter((l) => l.demandSlug === demandSlug).length };
    },
  });
}

/**
 * Held letters (near-duplicates of many others) wait for an organiser: release sends them as a
 * confirmation would (by email, or in the target's next hand-in pack), drop means they are never sent.
 */
export function lettersAdminRoutes(deps: { letters: LettersService; audit: AuditLog; render: AdminRender }): Router {
  const { letters, audit, render } = deps;
  const router = Router();

  async function showHeld(req: Request, res: Response) {
    const held = await letters.held();
    // The list shows writers' names and own words: reading it is in the audit log, as the CLI's --held is.
    await audit.record({
      organiserId: currentOrganiser(res)?.id ?? null,
      action: 'letters.held',
      details: { count: held.length },
    });
    render(req, res, 'letters-held', {
      titleKey: 'letters.admin.heldTitle',
      section: 'letters',
      letters: held.map((l) => ({ ...l, createdAt: new Date(l.createdAt).toISOString().slice(0, 16) })),
      lang: res.locals.lang as Lang,
    });
  }

  router.get('/letters/held', requireRole('viewer'), (req, res) => showHeld(req, res));

  for (const action of ['release', 'drop'] as const) {
    router.post(`/letters/:id/${action}`, requireRole('organiser'), async (req, res) => {
      const id = Number(req.params.id);
      const held = (await letters.held()).find((l) => l.id === id);
      // Only held letters move from here: anything else was already decided.
      if (held) {
        // A released letter whose target has no address (any more) joins its next hand-in pack.
        const state = action === 'release' ? await letters.release(id) : await letters.drop(id);
        await audit.record({
          organiserId: currentOrganiser(res)?.id ?? null,
          action: `letters.${action}`,
          subject: letterRef(id),
          details: { state, demand: held.demandSlug, country: held.country },
        });
      }
      res.redirect(303, '/admin/letters/held');
    });
  }
  return router;
}
