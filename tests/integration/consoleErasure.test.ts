import { createAuditLog } from '../../server/admin/auditLog';
import { createErasure } from '../../server/console/signatures/erasure';
import { createRetention } from '../../server/console/signatures/retention';
import type { Store } from '../../server/db/store';
import type { Logger } from '../../server/logger';
import { insertOutboxRow } from '../../server/mail/outboxRepository';
import { outboxErasureRepository } from '../../server/mail/outboxErasureRepository';
import { petitionsRepository } from '../../server/petitions/petitionsRepository';
import { at, day, newPetition, seedConsoleStore, signed } from '../helpers/consoleStore';
import { createTestStore, postgresUrl, type TestStore } from '../helpers/testStore';

const engine = postgresUrl ? 'PostgreSQL' : 'SQLite';

/**
 * An erasure request and a retention run on the store, against the database the run points at
 * (`npm run test:pg` runs them on PostgreSQL): each one transaction, with portable queries.
 */
describe(`erasure and retention on ${engine}`, () => {
  let t: TestStore;
  let store: Store;
  let fixedTarget: number;

  beforeAll(async () => {
    t = await createTestStore();
    store = t.store;
    ({ fixedTarget } = await seedConsoleStore(store));
  });
  afterAll(async () => t.close());

  it('erases a person from every table in one transaction, and rolls all of it back when a step fails', async () => {
    const petitionId = await newPetition(store, 'erased');
    const hedy = await signed(store, petitionId, {
      name: 'Hedy Lamarr',
      email: 'Hedy.Lamarr@Gmail.com',
      emailCanonical: 'hedylamarr@gmail.com',
      country: 'IT',
    });
    const joann = await signed(store, petitionId, {
      name: 'Joann Other',
      email: 'joann@example.org',
      emailCanonical: 'joann@example.org',
      country: 'IT',
    });
    const mail = (recipient: string, kind: string, params: Record<string, unknown>) =>
      insertOutboxRow(store, {
        kind,
        recipient,
        template: kind,
        params,
        locale: 'en',
        messageId: `<${Math.random()}@test>`,
        now: at,
      });
    await mail('Hedy.Lamarr@Gmail.com', 'signature_confirmation', { signatureId: hedy, name: 'Hedy' });
    await mail('delegation@example.org', 'letter', { replyTo: 'hedy.lamarr+x@googlemail.com', nested: ['a'] });
    await mail('joann@example.org', 'signature_confirmation', { signatureId: joann, name: 'Joann' });
    await mail('delegation@example.org', 'digest', { note: 'hedylamarr@gmail.com' }); // a batch's, kept
    const audit = createAuditLog(store, () => at);
    await audit.record({ organiserId: null, action: 'person.lookup', details: { email: 'hedylamarr@gmail.com' } });
    await audit.record({ organiserId: null, action: 'signatures.search', details: { q: 'lamarr' } });
    await audit.record({ organiserId: null, action: 'petition.update', subject: 'erased', details: { goal: 3 } });
    const batch = await store.first(
      store.qb
        .insertInto('batches')
        .values({
          petition_id: petitionId,
          target_id: fixedTarget,
          signature_count: 1,
          running_total: 1,
          created_at: at,
        })
        .returning('id'),
    );
    await store.run(
      store.qb
        .insertInto('batch_signatures')
        .values({ target_id: fixedTarget, signature_id: hedy, batch_id: batch!.id }),
    );
    const counts = async () => ({
      total: await petitionsRepository(store).validatedCount(petitionId),
      countries: await petitionsRepository(store).countryCounts(petitionId),
    });
    expect(await counts()).toEqual({ total: 2, countries: [{ country: 'IT', count: 2 }] });

    const erasure = createErasure(store);
    expect(await erasure.preview('HEDY.LAMARR@gmail.com')).toMatchObject({
      canonical: 'hedylamarr@gmail.com',
      names: ['Hedy Lamarr'],
      signatureIds: [hedy],
    });
    // A later step fails: nothing of the erasure stays.
    const failing = {
      table: 'letters',
      erase: () => Promise.reject(new Error('disk on fire')),
    };
    erasure.addEraser(failing);
    await expect(erasure.erase('hedy.lamarr@gmail.com')).rejects.toThrow('disk on fire');
    expect(await counts()).toEqual({ total: 2, countries: [{ country: 'IT', count: 2 }] });
    expect(await outboxErasureRepository(store).page(0, 100)).toHaveLength(4);
    erasure.erasers.splice(erasure.erasers.indexOf(failing), 1);

    // Erasers may answer synchronously (the letters' do until letters move) or with a promise.
    erasure.addEraser({ table: 'letters', identify: () => ({ names: [], emails: [] }), erase: () => 0 });
    expect(await erasure.erase('hedy.lamarr@gmail.com')).toEqual({
      outbox: 2,
      audit_log: 2,
      letters: 0,
      signatures: 1,
    });
    expect(await counts()).toEqual({ total: 1, countries: [{ country: 'IT', count: 1 }] });
    expect((await outboxErasureRepository(store).page(0, 100)).map((m) => [m.kind, m.recipient])).toEqual([
      ['signature_confirmation', 'joann@example.org'],
      ['digest', 'delegation@example.org'],
    ]);
    const entries = await store.all(store.qb.selectFrom('audit_log').select(['action', 'details']).orderBy('id'));
    expect(entries.map((e) => [e.action, JSON.parse(e.details) as unknown])).toEqual([
      ['person.lookup', { email: '[erased]' }],
      ['signatures.search', { q: '[erased]' }],
      ['petition.update', { goal: 3 }],
    ]);
    expect(
      await store.all(store.qb.selectFrom('batch_signatures').select('signature_id').where('signature_id', '=', hedy)),
    ).toEqual([]);
  });

  it('anonymises the signatures of petitions closed long enough ago, and forgets their mail', async () => {
    const petitionId = await newPetition(store, 'retained');
    const kept = await newPetition(store, 'still-open');
    const old = await signed(store, petitionId, {
      name: 'Otto Old',
      email: 'otto@example.org',
      emailCanonical: 'otto@example.org',
      postcode: '1010',
      ipHash: 'ip',
    });
    const open = await signed(store, kept, {
      name: 'Nia New',
      email: 'nia@example.org',
      emailCanonical: 'nia@example.org',
    });
    await petitionsRepository(store).setState('retained', 'closed', at - 40 * day);
    const mail = (signatureId: number, state: 'queued' | 'sent', sentAt: number | null) =>
      store.run(
        store.qb.insertInto('outbox').values({
          kind: 'signature_confirmation',
          recipient: 'someone@example.org',
          template: 't',
          params: JSON.stringify({ signatureId, name: 'x' }),
          locale: 'en',
          message_id: `<${Math.random()}@test>`,
          state,
          next_attempt_at: at,
          created_at: at,
          sent_at: sentAt,
        }),
      );
    await mail(old, 'queued', null);
    await mail(open, 'queued', null);
    await mail(open, 'sent', at - 10 * day);
    // A string that only looks like the id is not the id.
    await store.run(
      store.qb.insertInto('outbox').values({
        kind: 'other',
        recipient: 'x@example.org',
        template: 't',
        params: JSON.stringify({ note: `"signatureId":${old}`, signatureId: String(old) }),
        locale: 'en',
        message_id: '<lookalike@test>',
        next_attempt_at: at,
        created_at: at,
      }),
    );

    const logger = { info: () => undefined, error: () => undefined } as unknown as Logger;
    const retention = createRetention({
      store,
      audit: createAuditLog(store, () => at),
      logger,
      daysAfterClose: 30,
      mailDays: 7,
      intervalMs: day,
      clock: () => at,
    });
    let stepTx: unknown;
    retention.addStep({
      run: async (_now, tx) => {
        stepTx = tx;
        return { changed: 0, mailDeleted: 0, details: { extra: 1 } };
      },
    });
    expect(await retention.run(null)).toBe(1);
    expect(stepTx).not.toBe(store); // the step ran in the run's transaction

    const row = await store.first(store.qb.selectFrom('signatures').selectAll().where('id', '=', old));
    expect(row).toMatchObject({
      name: '',
      email: '',
      email_canonical: `anonymised:${old}`,
      postcode: null,
      ip_hash: null,
      show_publicly: 0,
      anonymised_at: at,
      state: 'validated',
      country_code: 'DE',
    });
    expect(await petitionsRepository(store).validatedCount(petitionId)).toBe(1); // counts stay
    const left = await outboxErasureRepository(store).page(0, 1000);
    expect(left.filter((m) => m.params.signatureId === old)).toEqual([]);
    expect(left.filter((m) => m.params.signatureId === open)).toHaveLength(1); // the queued one; the sent one pruned
    expect(left.some((m) => m.kind === 'other')).toBe(true);
    const entry = await store.first(
      store.qb.selectFrom('audit_log').select('details').where('action', '=', 'retention.run'),
    );
    expect(JSON.parse(entry!.details)).toEqual({
      anonymised: 1,
      daysAfterClose: 30,
      extra: 1,
      mailDeleted: 2,
      mailDays: 7,
    });
    // Again: nothing more to do.
    expect(await retention.run(null)).toBe(0);
    expect(await outboxErasureRepository(store).forgetSignatureMail([])).toBe(0);
    expect(await outboxErasureRepository(store).pruneFinished(at)).toBe(0);
  });
});
