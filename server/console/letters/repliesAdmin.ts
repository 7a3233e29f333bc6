import type { DashboardService } from '../dashboard/dashboardService';
import type { LettersService } from '../../letters/lettersService';
import { responsivenessLines } from '../../letters/replies/responsivenessView';
import type { PetitionsRepository } from '../../petitions/petitionsRepository';

/**
 * The petition's dashboard (role viewer and up) shows the responsiveness table of its demand's
 * letters: per delegation, as the public table counts them (no writer is named).
 */
export function registerRepliesDashboard(
  dashboard: DashboardService,
  letters: LettersService,
  petitions: PetitionsRepository,
): void {
  dashboard.addSection({
    id: 'replies',
    partial: 'admin/responsiveness',
    async load(petition, lang) {
      const demandSlug = (await petitions.findById(petition.id, lang))?.demandSlug;
      const demand = demandSlug ? await letters.demand(demandSlug, lang) : undefined;
      if (!demand) return undefined;
      return { demand, lines: responsivenessLines(await letters.responsiveness(demand.id), lang) };
    },
  });
}
