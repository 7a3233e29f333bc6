import { Router } from 'express';
import type { AdminRender } from '../../admin/adminRender';
import type { AuditLog } from '../../admin/auditLog';
import { currentOrganiser, requireRole } from '../../admin/requireRole';
import type { DashboardService } from '../dashboard/dashboardService';
import type { OutboxSender } from '../../mail/outboxSender';
import type { BatchStatus } from '../../delivery/deliveryRepository';
import type { DeliveryService } from '../../delivery/deliveryService';

/** A batch's state in words: a hand-in pack is due (on the "Hand-in packs" page) or handed in, not queued or sent. */
function stateOf(batch: BatchStatus): { stateKey: string; due: boolean } {
  if (batch.channel !== 'post') return { stateKey: `delivery.admin.states.${batch.state}`, due: false };
  const due = batch.state === 'queued';
  return { stateKey: `delivery.admin.states.${due ? 'due' : 'handedIn'}`, due };
}

/**
 * Delivery in the console: the dashboard shows each petition's digests and hand-in packs, the signatures that wait
 * for a target's address, and — for everyone — a pause left by an authentication failure at the
 * relay, with a button to resume once the credentials are fixed.
 */
export function registerDeliveryDashboard(
  dashboard: DashboardService,
  delivery: DeliveryService,
  sender: OutboxSender,
) {
  dashboard.addSection({
    id: 'delivery',
    partial: 'admin/delivery',
    async load(petition) {
      const [pause, batches, awaiting] = await Promise.all([
        sender.paused(),
        delivery.status(20, petition.id),
        delivery.awaitingAddress(petition.id),
      ]);
      return {
        paused: pause ? { reason: pause.reason, since: new Date(pause.pausedAt).toISOString() } : undefined,
        batches: batches.map((b) => ({ ...b, ...stateOf(b) })),
        awaiting,
      };
    },
  });
}

export function deliveryAdminRoutes(deps: { sender: OutboxSender; audit: AuditLog; render: AdminRender }): Router {
  const router = Router();
  router.post('/delivery/resume', requireRole('organiser'), async (_req, res) => {
    const resumed = await deps.sender.resume();
    await deps.audit.record({
      organiserId: currentOrganiser(res)?.id ?? null,
      action: 'delivery.resume',
      details: { resumed },
    });
    res.redirect(303, '/admin');
  });
  return router;
}
