import { sql } from 'kysely';
import { deliveryRepository } from '../../server/delivery/deliveryRepository';
import { createDeliveryService } from '../../server/delivery/deliveryService';
import { createI18n } from '../../server/i18n/i18n';
import { createOutbox } from '../../server/mail/outbox';
import { insertOutboxRow, outboxRepository } from '../../server/mail/outboxRepository';
import { petitionsRepository } from '../../server/petitions/petitionsRepository';
import { createViews } from '../../server/views/views';
import { seedCampaign } from '../helpers/storeSeed';
import { createTestStore, postgresUrl, type TestStore } from '../helpers/testStore';

const engine = postgresUrl ? 'PostgreSQL' : 'SQLite';
const at = Date.UTC(2026, 10, 30, 12);
const leaseMs = 60_000;

/**
 * The outbox and delivery on the store, against the database the run points at: claims, leases and
 * batch planning must keep their promises (each mail claimed by one claim, each signature in one
 * batch per target) with several claimers or planners at once, which only PostgreSQL allows.
 */
describe(`the outbox and delivery on ${engine}`, () => {
  let t: TestStore;
  let petitionId: number;
  let italy: number;
  let france: number;
  let assembly: number;
  beforeAll(async () => {
    t = await createTestStore();
    const { store } = t;
    const { demandId } = await seedCampaign(store, { countries: ['IT', 'FR', 'BE'] });
    const petition = await store.first(
      store.qb
        .insertInto('petitions')
        .values({ demand_id: demandId, slug: 'the-petition', goal: 100, created_at: at })
        .returning('id'),
    );
    petitionId = Number(petition!.id);
    const target = async (values: { country: string; name: string; email: string | null; isDefault: 0 | 1 }) =>
      Number(
        (await store.first(
          store.qb
            .insertInto('targets')
            .values({
              country_code: values.country,
              name: values.name,
              email: values.email,
              is_default: values.isDefault,
              languages: 'en',
              created_at: at,
              updated_at: at,
            })
            .returning('id'),
        ))!.id,
      );
    italy = await target({ country: 'IT', name: 'Italy', email: 'it@example.org', isDefault: 1 });
    france = await target({ country: 'FR', name: 'France', email: null, isDefault: 1 });
    assembly = await target({ country: 'BE', name: 'Assembly', email: 'pa@example.org', isDefault: 0 });
    await store.run(store.qb.insertInto('petition_targets').values({ petition_id: petitionId, target_id: assembly }));
  });
  afterAll(async () => t.close());

  beforeEach(async () => {
    const { store } = t;
    await store.run(store.qb.deleteFrom('batch_signatures'));
    await store.run(store.qb.deleteFrom('batches'));
    await store.run(store.qb.deleteFrom('outbox'));
    await store.run(store.qb.deleteFrom('outbox_pause'));
    await store.run(store.qb.deleteFrom('signatures'));
  });

  let mailNumber = 0;
  async function queueMails(count: number, now = at): Promise<number[]> {
    return t.store.transaction(async (tx) => {
      const ids: number[] = [];
      for (let i = 0; i < count; i++) {
        const n = ++mailNumber;
        ids.push(
          await insertOutboxRow(tx, {
            kind: 'test',
            recipient: `person${n}@example.org`,
            template: 'already-signed',
            params: { n },
            locale: 'en',
            messageId: `<${n}.${engine}@example.org>`,
            now,
          }),
        );
      }
      return ids;
    });
  }

  let signerNumber = 0;
  async function addSignatures(count: number, country: string): Promise<number[]> {
    const rows = Array.from({ length: count }, () => {
      const n = ++signerNumber;
      return {
        petition_id: petitionId,
        name: `Signer ${n}`,
        email: `s${n}@example.org`,
        email_canonical: `s${n}@example.org`,
        country_code: country,
        postcode: null,
        show_publicly: 0 as const,
        updates_opt_in: 0 as const,
        consent_version: 'v1',
        consent_at: at,
        locale: 'en',
        state: 'validated' as const,
        created_at: at,
        validated_at: at,
      };
    });
    const ids = await t.store.all(t.store.qb.insertInto('signatures').values(rows).returning('id'));
    return ids.map((r) => Number(r.id));
  }

  describe('outboxRepository', () => {
    it('claims due mail with a lease, and records each outcome only for the claim that holds it', async () => {
      const outbox = outboxRepository(t.store);
      const [first, second, third] = await queueMails(3);
      const later = await queueMails(1, at + 10_000);
      expect(await outbox.nextDueAt()).toBe(at);

      const claim = await outbox.claimDue(at, leaseMs, 10);
      expect(claim.rows.map((r) => r.id).sort((a, b) => a - b)).toEqual([first, second, third]);
      expect(claim.rows[0]).toMatchObject({ state: 'sending', attempts: 1, params: { n: expect.any(Number) } });
      expect(claim.lease).toBe(at + leaseMs);
      expect(await outbox.nextDueAt()).toBe(at + 10_000); // the later mail, before the lease runs out

      // A stale lease changes nothing.
      expect(await outbox.markSent(first!, claim.lease - 1, '250 OK', at)).toBe(false);
      expect(await outbox.markSent(first!, claim.lease, '250 OK', at)).toBe(true);
      expect(await outbox.markSent(first!, claim.lease, '250 OK', at)).toBe(false); // recorded once
      expect(await outbox.scheduleRetry(second!, claim.lease, '451 busy', at + 5_000)).toBe(true);
      expect(await outbox.markFailed(third!, claim.lease, 'dead', '550 no such user')).toBe(true);
      expect(await outbox.find(first!)).toMatchObject({ state: 'sent', lastError: null });
      expect(await outbox.find(second!)).toMatchObject({ state: 'queued', attempts: 1, nextAttemptAt: at + 5_000 });
      expect(await outbox.find(third!)).toMatchObject({ state: 'dead', lastError: '550 no such user' });

      // The retry is due again at its time; the claim's lease is later than every lease held now.
      const retry = await outbox.claimDue(at + 5_000, 1, 10);
      expect(retry.rows.map((r) => r.id)).toEqual([second]);
      expect(retry.rows[0]!.attempts).toBe(2);
      expect(await outbox.requeue(second!, retry.lease, '421 try later')).toBe(true);
      expect(await outbox.find(second!)).toMatchObject({ state: 'queued', attempts: 1, lastError: '421 try later' });

      // Given back unsent: only the rows the claim still holds, the attempt not counted.
      const both = await outbox.claimDue(at + 10_000, leaseMs, 10);
      expect(both.rows.map((r) => r.id).sort((a, b) => a - b)).toEqual([second, ...later]);
      expect(await outbox.release(both.lease + 1, [second!])).toBe(0);
      expect(await outbox.release(both.lease, [second!, ...later, 999_999])).toBe(2);
      expect(await outbox.find(later[0]!)).toMatchObject({ state: 'queued', attempts: 0 });
      expect(await outbox.release(both.lease, [])).toBe(0);
    });

    it('takes over mail whose lease ran out with a later lease, leaving out what the claimer still sends', async () => {
      const outbox = outboxRepository(t.store);
      const ids = await queueMails(3);
      const first = await outbox.claimDue(at, leaseMs, 10);
      const expired = at + leaseMs;
      // The claimer itself still sends the first mail: it is not claimed again meanwhile.
      const again = await outbox.claimDue(expired, leaseMs, 10, [ids[0]!]);
      expect(again.rows.map((r) => r.id).sort((a, b) => a - b)).toEqual(ids.slice(1));
      expect(again.lease).toBeGreaterThan(first.lease);
      expect(again.rows.every((r) => r.attempts === 2)).toBe(true);
      // The first claim no longer holds them.
      expect(await outbox.markSent(ids[1]!, first.lease, '250 OK', expired)).toBe(false);
      expect(await outbox.markSent(ids[0]!, first.lease, '250 OK', expired)).toBe(true);
    });

    it('leaves out of a claim more ids than one statement binds', async () => {
      const outbox = outboxRepository(t.store);
      const ids = await queueMails(3);
      const exclude = [...Array.from({ length: 1_200 }, (_, i) => 1_000_000 + i), ids[1]!];
      const claim = await outbox.claimDue(at, leaseMs, 10, exclude);
      expect(claim.rows.map((r) => r.id).sort((a, b) => a - b)).toEqual([ids[0], ids[2]]);
    });

    it('pauses once, and says why until resumed', async () => {
      const outbox = outboxRepository(t.store);
      expect(await outbox.paused()).toBeUndefined();
      await outbox.pause('535 auth failed', at, 'relay-a');
      await outbox.pause('535 again', at + 1, 'relay-b'); // the first pause stands
      expect(await outbox.paused()).toEqual({ reason: '535 auth failed', pausedAt: at, relay: 'relay-a' });
      expect(await outbox.resume()).toBe(true);
      expect(await outbox.resume()).toBe(false);
    });

    it('never gives two concurrent claims the same mail or the same lease', async () => {
      const outbox = outboxRepository(t.store);
      const queued = await queueMails(120);
      const claimed: number[] = [];
      const leases: number[] = [];
      for (let round = 0; round < 5; round++) {
        // Four claimers at the same millisecond (on PostgreSQL, on four connections at once).
        const claims = await Promise.all([1, 2, 3, 4].map(() => outbox.claimDue(at, leaseMs, 7)));
        for (const claim of claims) {
          claimed.push(...claim.rows.map((r) => r.id));
          // A claim that found nothing holds nothing: its lease names no row.
          if (claim.rows.length > 0) leases.push(claim.lease);
        }
      }
      expect(claimed).toHaveLength(120);
      expect(new Set(claimed).size).toBe(120);
      expect(new Set(claimed)).toEqual(new Set(queued));
      expect(new Set(leases).size).toBe(leases.length);
      // Each row carries the lease of the one claim that took it.
      const held = await t.store.all(
        t.store.qb
          .selectFrom('outbox')
          .select(['lease_until', sql<number>`count(*)`.as('n')])
          .groupBy('lease_until'),
      );
      expect(held.every((r) => leases.includes(Number(r.lease_until)) && Number(r.n) <= 7)).toBe(true);
    });

    // Row locks are PostgreSQL's: SQLite has one writer, so there is nothing to skip there.
    if (postgresUrl)
      it('skips, without waiting, a row another transaction holds locked (FOR UPDATE SKIP LOCKED)', async () => {
        const outbox = outboxRepository(t.store);
        const [locked, free] = await queueMails(2);
        let unlock!: () => void;
        const holding = new Promise<void>((resolve) => (unlock = resolve));
        let lockedNow!: () => void;
        const isLocked = new Promise<void>((resolve) => (lockedNow = resolve));
        const other = t.store.transaction(async (tx) => {
          await tx.run(tx.qb.updateTable('outbox').set({ last_error: 'busy' }).where('id', '=', locked!));
          lockedNow();
          await holding;
        });
        await isLocked;
        const claiming = outbox.claimDue(at, leaseMs, 10);
        const waited = await Promise.race([
          claiming.then(() => false),
          new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 2_000)),
        ]);
        unlock();
        await other;
        expect(waited).toBe(false);
        expect((await claiming).rows.map((r) => r.id)).toEqual([free]);
        expect((await outbox.claimDue(at, leaseMs, 10)).rows.map((r) => r.id)).toEqual([locked]);
      });
  });

  describe('delivery planning', () => {
    const i18n = createI18n();
    const delivery = () =>
      createDeliveryService({
        store: t.store,
        petitions: petitionsRepository(t.store),
        outbox: createOutbox('campaign@example.org', () => at),
        views: createViews(i18n),
        i18n,
        mailFrom: 'campaign@example.org',
        baseUrl: 'http://localhost',
        settings: { size: 7, maxWaitMs: 3_600_000, maxPerDigest: 4 },
        clock: () => at,
      });

    /** Every (target, signature) membership, and how many batches hold each. */
    async function memberships() {
      return t.store.all(
        t.store.qb
          .selectFrom('batch_signatures')
          .select(['target_id', 'signature_id', sql<number>`count(*)`.as('n')])
          .groupBy(['target_id', 'signature_id']),
      );
    }

    it('batches each signature once per target, with its digest queued in the same transaction', async () => {
      const base = signerNumber;
      const italians = await addSignatures(6, 'IT');
      const french = await addSignatures(2, 'FR');
      const service = delivery();
      // The assembly (petition-wide) has 8 waiting, enough for a digest; Italy's delegation has 6,
      // too few and too recent; France has no address yet.
      const noPacks = { packs: 0, packSignatures: 0, packLetters: 0 };
      expect(await service.plan()).toEqual({ batches: 2, signatures: 8, awaitingAddress: 2, ...noPacks });
      expect(await service.awaitingAddress()).toEqual([{ target: 'France', country: 'FR', count: 2 }]);
      expect(await service.awaitingAddress(petitionId + 1)).toEqual([]);
      expect(await service.plan(true)).toEqual({ batches: 2, signatures: 6, awaitingAddress: 2, ...noPacks });

      const status = await service.status();
      expect(status).toHaveLength(4);
      expect(status[0]).toMatchObject({ petition: 'the-petition', state: 'queued', attempts: 0, lastError: null });
      expect(await service.status(3, petitionId)).toHaveLength(3);
      expect(await service.status(10, petitionId + 1)).toEqual([]);

      const repo = deliveryRepository(t.store);
      const batches = (await Promise.all(status.map((s) => repo.batch(s.id)))).map((b) => b!);
      // Running totals per petition × target.
      const totals = batches.map((b) => [b.targetId === italy ? 'IT' : 'PA', b.signatureCount, b.runningTotal]);
      expect(totals.sort()).toEqual(
        [
          ['IT', 2, 6],
          ['IT', 4, 4],
          ['PA', 4, 4],
          ['PA', 4, 8],
        ].sort(),
      );
      const digests = await t.store.all(t.store.qb.selectFrom('outbox').select(['id', 'kind']));
      expect(digests).toHaveLength(4);
      expect(new Set(batches.map((b) => b.messageId)).size).toBe(4);
      expect(await memberships()).toHaveLength(italians.length * 2 + french.length);

      const first = batches.find((b) => b.targetId === italy && b.signatureCount === 4)!;
      expect((await repo.signers(first.id)).map((s) => s.name)).toEqual([1, 2, 3, 4].map((i) => `Signer ${base + i}`));
      expect(await repo.target(italy)).toMatchObject({ name: 'Italy', country: 'IT', email: 'it@example.org' });
      expect(await repo.sentBefore(petitionId, italy, first.id + 1_000)).toBe(6);

      // A digest whose target lost its address gives its signatures back to be batched again.
      await t.store.transaction(async (tx) => {
        await deliveryRepository(tx).unbatch(first.id);
      });
      expect(await repo.batch(first.id)).toMatchObject({ state: 'failed', signatureCount: 0, runningTotal: 0 });
      expect(await repo.sentBefore(petitionId, italy, first.id + 1_000)).toBe(2);
      expect((await repo.pendingGroups()).map((g) => [g.targetId, g.count])).toEqual([
        [italy, 4],
        [france, 2],
      ]);
    });

    it('never puts a signature in two batches for one target when two planners run at once', async () => {
      const service = delivery();
      const other = delivery();
      let planned = 0;
      for (let round = 0; round < 4; round++) {
        await addSignatures(9, 'IT');
        const results = await Promise.all([service.plan(true), other.plan(true), service.plan(true)]);
        planned += results.reduce((sum, r) => sum + r.signatures, 0);
      }
      const all = await memberships();
      expect(all).toHaveLength(36 * 2);
      expect(all.every((m) => Number(m.n) === 1)).toBe(true);
      expect(planned).toBe(36 * 2);
      // No empty batch, and one digest per batch.
      const batches = await t.store.all(t.store.qb.selectFrom('batches').select(['signature_count', 'outbox_id']));
      expect(batches.every((b) => b.signature_count > 0 && b.outbox_id !== null)).toBe(true);
      const digests = await t.store.first(t.store.qb.selectFrom('outbox').select(sql<number>`count(*)`.as('n')));
      expect(Number(digests!.n)).toBe(batches.length);
    });

    it('leaves out of a batch what a planner that committed first took, and makes no empty batch', async () => {
      await addSignatures(3, 'IT');
      let commit!: () => void;
      const committing = new Promise<void>((resolve) => (commit = resolve));
      let tookThem!: () => void;
      const took = new Promise<void>((resolve) => (tookThem = resolve));
      // The first planner batches the three and waits, uncommitted.
      const first = t.store.transaction(async (tx) => {
        const made = await deliveryRepository(tx).createBatch(petitionId, italy, 10, at);
        tookThem();
        await committing;
        return made;
      });
      await took;
      // The second finds the same three waiting before the first committed (on PostgreSQL it waits
      // for the first's commit at the key; on SQLite it waits for the first transaction as a whole).
      const second = t.store.transaction((tx) => deliveryRepository(tx).createBatch(petitionId, italy, 10, at));
      setTimeout(commit, 50);
      expect(await first).toEqual({ batchId: expect.any(Number), count: 3 });
      expect(await second).toBeNull();
      const batches = await t.store.all(t.store.qb.selectFrom('batches').select('id'));
      expect(batches).toHaveLength(1);
      expect(await memberships()).toHaveLength(3);
    });
  });
});
