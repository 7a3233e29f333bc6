import { createAuditLog } from '../../server/admin/auditLog';
import { petitionAdminRepository } from '../../server/console/petitions/petitionAdminRepository';
import { createErasure } from '../../server/console/signatures/erasure';
import { createRetention } from '../../server/console/signatures/retention';
import { signatureAdminRepository } from '../../server/console/signatures/signatureAdminRepository';
import type { Store } from '../../server/db/store';
import { exportRepository, type ExportRow } from '../../server/exports/exportRepository';
import type { Logger } from '../../server/logger';
import { insertOutboxRow } from '../../server/mail/outboxRepository';
import { forgetSignatureMail, outboxPage, pruneFinishedMail } from '../../server/mail/outboxErasure';
import { petitionsRepository } from '../../server/petitions/petitionsRepository';
import { signaturesRepository, type NewSignature } from '../../server/signatures/signaturesRepository';
import { createTestStore, postgresUrl, type TestStore } from '../helpers/testStore';

const engine = postgresUrl ? 'PostgreSQL' : 'SQLite';
const at = Date.UTC(2026, 10, 30, 12);
const day = 24 * 60 * 60 * 1000;

/** A petition with its counters, and its texts in English. */
async function newPetition(store: Store, slug: string): Promise<number> {
  const row = await store.first(
    store.qb.insertInto('petitions').values({ slug, goal: 10, created_at: at }).returning('id'),
  );
  await store.run(store.qb.insertInto('petition_counts').values({ petition_id: row!.id }));
  await store.run(
    store.qb.insertInto('petition_texts').values({ petition_id: row!.id, lang: 'en', title: slug, body: 'Body' }),
  );
  return row!.id;
}

/**
 * The console's repositories (petition edits, signature search and invalidation, erasure, retention,
 * exports) against the database the run points at: the same queries must mean the same on SQLite
 * and on PostgreSQL (`npm run test:pg`).
 */
describe(`the console's repositories on ${engine}`, () => {
  let t: TestStore;
  let store: Store;
  let demandId: number;
  let fixedTarget: number;
  let defaultTarget: number;

  beforeAll(async () => {
    t = await createTestStore();
    store = t.store;
    await store.run(
      store.qb.insertInto('countries').values([
        { code: 'DE', nato_member: 1 },
        { code: 'FR', nato_member: 1 },
        { code: 'IT', nato_member: 1 },
      ]),
    );
    const campaign = await store.first(
      store.qb
        .insertInto('campaigns')
        .values({ slug: 'c', source_author: 'A', source_title: 'T', source_publication: 'P', source_year: 2025 })
        .returning('id'),
    );
    const demand = await store.first(
      store.qb.insertInto('demands').values({ campaign_id: campaign!.id, slug: 'demand', position: 1 }).returning('id'),
    );
    demandId = demand!.id;
    await store.run(
      store.qb.insertInto('demand_texts').values({ demand_id: demandId, lang: 'en', title: 'Demand', summary: 'S' }),
    );
    const target = (name: string, isDefault: 0 | 1) =>
      store.first(
        store.qb
          .insertInto('targets')
          .values({ country_code: 'FR', name, is_default: isDefault, created_at: at, updated_at: at })
          .returning('id'),
      );
    fixedTarget = (await target('Minister', 0))!.id;
    defaultTarget = (await target('Delegation', 1))!.id;
  });
  afterAll(async () => t.close());

  const signer = (petitionId: number, over: Partial<NewSignature> = {}): NewSignature => ({
    petitionId,
    name: 'Ada Lovelace',
    email: 'Ada@Example.org',
    emailCanonical: 'ada@example.org',
    country: 'DE',
    postcode: null,
    showPublicly: true,
    updatesOptIn: false,
    consentVersion: 'v1',
    ipHash: null,
    locale: 'en',
    state: 'pending',
    fraudReason: null,
    now: at,
    ...over,
  });
  /** A signature, validated (and counted) unless it is to stay pending. */
  async function signed(petitionId: number, over: Partial<NewSignature>, validated = true): Promise<number> {
    const signatures = signaturesRepository(store);
    const id = await signatures.insert(signer(petitionId, over), 1);
    if (validated) expect(await signatures.validate((await signatures.findById(id))!, at + 1)).toBe(true);
    return id;
  }

  it('creates and edits a petition: texts upserted or dropped, only fixed addressees, a demand', async () => {
    const id = await store.transaction((tx) =>
      petitionAdminRepository(tx).create({
        slug: 'edited',
        goal: 50,
        demandSlug: 'demand',
        texts: { en: { title: 'Title', body: 'Body' }, fr: { title: 'Titre', body: 'Corps' } },
        targetIds: [fixedTarget, defaultTarget],
        now: at,
      }),
    );
    expect(id).toEqual(expect.any(Number));
    const repo = petitionAdminRepository(store);
    expect(await repo.slugTaken('edited')).toBe(true);
    expect(await repo.slugTaken('other')).toBe(false);
    expect(await repo.find('edited')).toEqual({
      id,
      slug: 'edited',
      goal: 50,
      state: 'closed',
      closedAt: null,
      demandSlug: 'demand',
      texts: { en: { title: 'Title', body: 'Body' }, fr: { title: 'Titre', body: 'Corps' } },
      targetIds: [fixedTarget],
    });
    expect(await petitionsRepository(store).validatedCount(id)).toBe(0); // its counter row exists

    await store.transaction((tx) =>
      petitionAdminRepository(tx).update(id, {
        goal: 75,
        demandSlug: null,
        texts: { en: { title: 'New title', body: 'New body' } },
        targetIds: [],
      }),
    );
    expect(await repo.find('edited')).toMatchObject({
      goal: 75,
      demandSlug: null,
      texts: { en: { title: 'New title', body: 'New body' } },
      targetIds: [],
    });

    await store.transaction((tx) =>
      petitionAdminRepository(tx).updateDemand(demandId, {
        en: { title: 'Demand (new)', summary: 'S2' },
        fr: { title: 'Revendication', summary: 'R' },
      }),
    );
    expect(await repo.findDemand('demand')).toEqual({
      id: demandId,
      slug: 'demand',
      petitionSlug: null,
      texts: { en: { title: 'Demand (new)', summary: 'S2' }, fr: { title: 'Revendication', summary: 'R' } },
    });
    expect(await repo.demands()).toEqual([expect.objectContaining({ slug: 'demand', petitionSlug: null })]);
  });

  it('searches signatures by address or by part of a name, in any case, and invalidates with the counters', async () => {
    const petitionId = await newPetition(store, 'searched');
    await signed(petitionId, { name: 'Grace Hopper', email: 'Grace@Navy.mil', emailCanonical: 'grace@navy.mil' });
    await signed(petitionId, {
      name: 'Ada Lovelace',
      email: 'ada@navy.mil',
      emailCanonical: 'ada@navy.mil',
      country: 'FR',
      postcode: ' 75001 ',
      ipHash: 'h1',
    });
    await signed(petitionId, { name: '100%_real', email: 'p@x.org', emailCanonical: 'p@x.org' }, false);
    const repo = signatureAdminRepository(store);

    expect((await repo.search('GRACE@navy.mil', 10)).map((s) => s.name)).toEqual(['Grace Hopper']);
    expect((await repo.search('hop', 10)).map((s) => s.name)).toEqual(['Grace Hopper']);
    // % and _ are searched for as themselves.
    expect((await repo.search('0%_', 10)).map((s) => s.name)).toEqual(['100%_real']);
    expect(await repo.search('%', 10)).toHaveLength(1);
    expect(await repo.countFound('a')).toBe(3);
    expect(await repo.search('a', 2)).toEqual([
      expect.objectContaining({ name: '100%_real', petitionSlug: 'searched', state: 'pending', validatedAt: null }),
      expect.objectContaining({ name: 'Ada Lovelace', country: 'FR', createdAt: at, validatedAt: at + 1 }),
    ]);

    expect(await repo.countMatching({ petitionId, domain: 'navy.mil' })).toEqual({
      pending: 0,
      validated: 2,
      petitions: 1,
    });
    expect(await repo.countMatching({ domain: 'x.org' })).toEqual({ pending: 1, validated: 0, petitions: 1 });
    expect(await repo.countMatching({ domain: 'nowhere.org' })).toEqual({ pending: 0, validated: 0, petitions: 0 });
    expect(await repo.countMatching({ postcode: '75001', ipHashes: ['h1', 'h2'], from: at, to: at + 1 })).toEqual({
      pending: 0,
      validated: 1,
      petitions: 1,
    });

    const petitions = petitionsRepository(store);
    expect(await petitions.validatedCount(petitionId)).toBe(2);
    const result = await store.transaction((tx) =>
      signatureAdminRepository(tx).invalidate({ postcode: '75001' }, at + 5),
    );
    expect(result).toEqual({ invalidated: 1, petitionIds: [petitionId] });
    expect(await petitions.validatedCount(petitionId)).toBe(1);
    expect(await petitions.countryCounts(petitionId)).toEqual([{ country: 'DE', count: 1 }]);
    // Nothing left to invalidate there: the same criteria change nothing.
    expect(await repo.invalidate({ postcode: '75001' }, at + 6)).toEqual({ invalidated: 0, petitionIds: [] });
  });

  it('erases a person from every table in one transaction, and rolls all of it back when a step fails', async () => {
    const petitionId = await newPetition(store, 'erased');
    const hedy = await signed(petitionId, {
      name: 'Hedy Lamarr',
      email: 'Hedy.Lamarr@Gmail.com',
      emailCanonical: 'hedylamarr@gmail.com',
      country: 'IT',
    });
    const joann = await signed(petitionId, {
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
    expect(await outboxPage(store, 0, 100)).toHaveLength(4);
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
    expect((await outboxPage(store, 0, 100)).map((m) => [m.kind, m.recipient])).toEqual([
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
    const old = await signed(petitionId, {
      name: 'Otto Old',
      email: 'otto@example.org',
      emailCanonical: 'otto@example.org',
      postcode: '1010',
      ipHash: 'ip',
    });
    const open = await signed(kept, { name: 'Nia New', email: 'nia@example.org', emailCanonical: 'nia@example.org' });
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
    const left = await outboxPage(store, 0, 1000);
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
    expect(await forgetSignatureMail(store, [])).toBe(0);
    expect(await pruneFinishedMail(store, at)).toBe(0);
  });

  it('exports in pages by id, up to the signatures that existed when it began', async () => {
    const petitionId = await newPetition(store, 'exported');
    const ids: number[] = [];
    for (let i = 0; i < 7; i++) {
      ids.push(
        await signed(
          petitionId,
          {
            name: `Signer ${i}`,
            email: `s${i}@example.org`,
            emailCanonical: `s${i}@example.org`,
            country: i % 2 ? 'FR' : 'DE',
            updatesOptIn: i === 3,
          },
          i !== 6,
        ),
      );
    }
    const repo = exportRepository(store);
    const upTo = await repo.highestId();
    expect(upTo).toBe(ids[6]);
    await signed(petitionId, { name: 'Late', email: 'late@example.org', emailCanonical: 'late@example.org' });

    const read = async (filters: Parameters<typeof repo.pages>[0], pageSize: number) => {
      const pages: ExportRow[][] = [];
      for await (const page of repo.pages(filters, { upTo, pageSize })) pages.push(page);
      return pages;
    };
    const validated = await read({ petitionId, state: 'validated', optedIn: false }, 2);
    expect(validated.map((p) => p.length)).toEqual([2, 2, 2]);
    expect(validated.flat().map((r) => r.id)).toEqual(ids.slice(0, 6));
    expect(validated[0]![0]).toEqual({
      id: ids[0],
      petitionId,
      name: 'Signer 0',
      email: 's0@example.org',
      country: 'DE',
      postcode: null,
      state: 'validated',
      createdAt: at,
      validatedAt: at + 1,
      updatesOptIn: 0,
    });
    expect((await read({ petitionId, state: 'all', optedIn: false }, 3)).map((p) => p.length)).toEqual([3, 3, 1]);
    expect((await read({ petitionId, state: 'all', country: 'FR', optedIn: false }, 2)).flat()).toHaveLength(3);
    expect((await read({ petitionId, state: 'validated', optedIn: true }, 2)).flat().map((r) => r.id)).toEqual([
      ids[3],
    ]);
    expect(await read({ petitionId, state: 'all', from: at + 1, optedIn: false }, 2)).toEqual([]);
    expect(await repo.count({ petitionId, state: 'validated', optedIn: false }, upTo)).toBe(6);
    expect(await repo.count({ petitionId, state: 'validated', optedIn: false })).toBe(7); // Late too
  });
});
