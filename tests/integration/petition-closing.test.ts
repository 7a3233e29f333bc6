import type TestAgent from 'supertest/lib/agent';
import { consoleToken, createAccount, login } from '../helpers/admin';
import { addValidatedSignaturesTo } from '../helpers/factories';
import { createTestApp, sameOrigin, sign, type TestApp } from '../helpers/testApp';
import { until } from '../helpers/until';

const slug = 'fund-defence-fairly';
const minute = 60_000;
const day = 24 * 60 * minute;
// 14 June 2026, 12:00 in Brussels (summer time, UTC+2).
const start = Date.UTC(2026, 5, 14, 10, 0);
// 24 June 2026, 23:59 in Brussels: the end of the day the form's date names.
const endOf24June = Date.UTC(2026, 5, 24, 21, 59);

describe('closing dates', () => {
  let t: TestApp;
  let now: number;
  let organiser: TestAgent;
  let token: string;

  beforeEach(async () => {
    now = start;
    t = await createTestApp({ smtp: false, clock: () => now });
    await createAccount(t.services, 'org@example.org', 'organiser');
    organiser = t.agent();
    await login(organiser, 'org@example.org');
    token = await consoleToken(organiser);
  });
  afterEach(() => t.close());

  const row = () =>
    t.services.store.first(
      t.services.store.qb.selectFrom('petitions').select(['state', 'closes_at', 'closed_at']).where('slug', '=', slug),
    );
  const audited = (action: string) =>
    t.services.store.all(
      t.services.store.qb
        .selectFrom('audit_log')
        .select(['subject', 'details'])
        .where('action', '=', action)
        .orderBy('id'),
    );

  /** Posts the petition's edit form as it stands, with these fields changed. */
  async function save(fields: Record<string, string>) {
    // The seeded petition has no fixed addressees: the form's checkboxes send nothing.
    const values: Record<string, unknown> = { ...(await t.services.admin.petitionAdmin.valuesOf(slug))! };
    delete values.targets;
    return organiser
      .post(`/admin/petitions/${slug}`)
      .type('form')
      .send({ _csrf: token, ...values, ...fields });
  }

  async function setClosing(date: string, time = '') {
    const res = await save({ closesDate: date, closesTime: time });
    expect(res.status).toBe(303);
  }

  describe('the console', () => {
    it('sets a closing date, the end of that day in Brussels when no time is given, and audits it', async () => {
      await setClosing('2026-06-24');
      expect(await row()).toMatchObject({ state: 'open', closes_at: endOf24June });
      const form = await organiser.get(`/admin/petitions/${slug}/edit`).expect(200);
      expect(form.text).toContain('value="2026-06-24"');
      expect(form.text).toContain('value="23:59"');
      expect(form.text).toContain('It closes itself on 24 June 2026 at 23:59 (Brussels time).');

      await setClosing('2026-06-30', '18:30');
      expect((await row())!.closes_at).toBe(Date.UTC(2026, 5, 30, 16, 30));
      const entries = await audited('petition.update');
      expect(JSON.parse(entries[0]!.details!)).toEqual({
        closes: { from: null, to: '2026-06-24 23:59 Europe/Brussels' },
      });
      expect(JSON.parse(entries[1]!.details!)).toEqual({
        closes: { from: '2026-06-24 23:59 Europe/Brussels', to: '2026-06-30 18:30 Europe/Brussels' },
      });

      // Cleared: no closing date any more.
      await setClosing('');
      expect((await row())!.closes_at).toBeNull();
    });

    it('re-renders the form with the values and a message beside the field for a bad closing date', async () => {
      const cases: Array<[Record<string, string>, string, string]> = [
        [{ closesDate: '2026-06-31' }, 'closesDate', 'Enter a real closing date, for example 2026-06-24'],
        [{ closesDate: '24/06/2026' }, 'closesDate', 'Enter a real closing date, for example 2026-06-24'],
        [{ closesDate: '2026-06-24', closesTime: '25:00' }, 'closesTime', 'Enter a closing time on the 24-hour clock'],
        [{ closesDate: '', closesTime: '18:00' }, 'closesDate', 'Enter a closing date, or clear the closing time'],
        [
          { closesDate: '2026-06-14', closesTime: '11:59' },
          'closesDate',
          'Enter a closing date and time in the future',
        ],
        [{ closesDate: '2026-06-01' }, 'closesDate', 'Enter a closing date and time in the future'],
      ];
      for (const [fields, field, message] of cases) {
        const res = await save({ ...fields, titleEn: 'Kept title' });
        expect(res.status).toBe(400);
        expect(res.text).toContain(message);
        expect(res.text).toContain(`id="field-${field}-error"`);
        expect(res.text).toContain(`href="#field-${field}"`);
        expect(res.text).toContain('value="Kept title"');
        if (fields.closesDate) expect(res.text).toContain(`value="${fields.closesDate}"`);
      }
      expect((await row())!.closes_at).toBeNull();
      expect(await audited('petition.update')).toEqual([]);
    });

    it('creates a petition with a closing date', async () => {
      const res = await organiser.post('/admin/petitions').type('form').send({
        _csrf: token,
        slug: 'short-lived',
        goal: '100',
        titleEn: 'Short lived',
        bodyEn: 'Text.',
        closesDate: '2026-07-01',
        closesTime: '12:00',
      });
      expect(res.status).toBe(303);
      const [created] = await audited('petition.create');
      expect(JSON.parse(created!.details!)).toMatchObject({ closes: '2026-07-01 12:00 Europe/Brussels' });
      const reserved = await organiser
        .post('/admin/petitions')
        .type('form')
        .send({ _csrf: token, slug: 'archive', goal: '100', titleEn: 'Archive', bodyEn: 'Text.' });
      expect(reserved.status).toBe(400);
    });

    it('asks for confirmation before closing by hand, on a page of its own', async () => {
      await addValidatedSignaturesTo(t.services.store, slug, [{ name: 'Ada', country: 'GB' }]);
      const edit = await organiser.get(`/admin/petitions/${slug}/edit`).expect(200);
      expect(edit.text).toContain(`href="/admin/petitions/${slug}/close"`);
      expect(edit.text).not.toMatch(/name="state" value="closed"/);

      const ask = await organiser.get(`/admin/petitions/${slug}/close`).expect(200);
      expect(ask.text).toContain('Close “NATO governments: fund defence fairly, not through austerity”?');
      expect(ask.text).toContain('It has 1 confirmed signature.');
      expect(ask.text).toContain('<title>Close the petition');
      expect(ask.text).toContain('name="confirm" value="yes"');
      expect(ask.text).toContain(`href="/admin/petitions/${slug}/edit"`);

      // A close that skipped the question is sent to it, and changes nothing.
      const skipped = await organiser
        .post(`/admin/petitions/${slug}/state`)
        .type('form')
        .send({ _csrf: token, state: 'closed' })
        .expect(303);
      expect(skipped.headers.location).toBe(`/admin/petitions/${slug}/close`);
      expect((await row())!.state).toBe('open');
      expect(await audited('petition.close')).toEqual([]);

      const closed = await organiser
        .post(`/admin/petitions/${slug}/state`)
        .type('form')
        .send({ _csrf: token, state: 'closed', confirm: 'yes' })
        .expect(303);
      expect(closed.headers.location).toBe(`/admin/petitions/${slug}/edit?notice=petitionClosed`);
      expect(await row()).toMatchObject({ state: 'closed', closed_at: start });
      expect(await audited('petition.close')).toHaveLength(1);
      // Once closed, the question page sends back to the form.
      await organiser.get(`/admin/petitions/${slug}/close`).expect(303);
    });

    it('leaves a closed petition alone when it is closed again (a double click, another tab)', async () => {
      const close = () =>
        organiser
          .post(`/admin/petitions/${slug}/state`)
          .type('form')
          .send({ _csrf: token, state: 'closed', confirm: 'yes' })
          .expect(303);
      await close();
      expect(await row()).toMatchObject({ state: 'closed', closed_at: start });
      now = start + day;
      // The time it closed counts (its signers' last day to confirm runs from it): it does not move.
      const again = await close();
      expect(again.headers.location).toBe(`/admin/petitions/${slug}/edit?notice=petitionClosed`);
      expect(await row()).toMatchObject({ state: 'closed', closed_at: start });
      expect(await audited('petition.close')).toHaveLength(1);
      // Nor does closing by hand a petition already closed by its date: it closed at that time.
      await organiser
        .post(`/admin/petitions/${slug}/state`)
        .type('form')
        .send({ _csrf: token, state: 'open' })
        .expect(303);
      await setClosing('2026-06-24');
      now = endOf24June + minute;
      await close();
      await t.services.petitions.closeDue();
      expect(await row()).toMatchObject({ state: 'closed', closed_at: endOf24June });
      expect(await audited('petition.close')).toHaveLength(1);
    });

    it('opening a petition whose closing time has passed clears that time, and says so in the audit', async () => {
      await setClosing('2026-06-24');
      now = endOf24June + minute;
      await t.services.petitions.closeDue();
      await organiser
        .post(`/admin/petitions/${slug}/state`)
        .type('form')
        .send({ _csrf: token, state: 'open' })
        .expect(303);
      expect(await row()).toMatchObject({ state: 'open', closes_at: null, closed_at: null });
      const [opened] = await audited('petition.open');
      expect(JSON.parse(opened!.details!)).toEqual({ closes: { from: '2026-06-24 23:59 Europe/Brussels', to: null } });
      const page = await t.agent().get(`/petitions/${slug}`).expect(200);
      expect(page.text).toContain('id="sign-heading"');
    });
  });

  describe('the public pages', () => {
    it('show the closing date and the days left, then "closes today", in English and French', async () => {
      await setClosing('2026-06-24');
      const en = await t.agent().get(`/petitions/${slug}`).expect(200);
      expect(en.text).toContain('Closes on 24 June 2026 at 23:59 (Brussels time) — 10 days left');
      const fr = await t.agent().get(`/petitions/${slug}?lang=fr`).expect(200);
      expect(fr.text).toContain('Se clôt le 24 juin 2026 à 23:59 (heure de Bruxelles) — encore 10 jours');

      now = Date.UTC(2026, 5, 23, 8, 0);
      const tomorrow = await t.agent().get(`/petitions/${slug}`).expect(200);
      expect(tomorrow.text).toContain('Closes on 24 June 2026 at 23:59 (Brussels time) — 1 day left');
      now = Date.UTC(2026, 5, 24, 8, 0);
      const today = await t.agent().get(`/petitions/${slug}`).expect(200);
      expect(today.text).toContain('Closes today at 23:59 (Brussels time)');
      expect(today.text).toContain('id="sign-heading"');
    });

    it('show a petition closed as soon as its time has passed, before the background step, with no form', async () => {
      await addValidatedSignaturesTo(
        t.services.store,
        slug,
        Array.from({ length: 3 }, (_, i) => ({ name: `Signer ${i}`, country: 'FR' })),
      );
      await setClosing('2026-06-24');
      // Kept pages and counts: read once while open.
      const open = await t.agent().get(`/petitions/${slug}`).expect(200);
      expect(open.text).toContain('id="sign-heading"');
      expect((await t.agent().get(`/petitions/${slug}.json`).expect(200)).body).toMatchObject({
        state: 'open',
        closesAt: '2026-06-24T21:59:00.000Z',
        closedAt: null,
      });

      now = endOf24June; // the very minute
      const closed = await t.agent().get(`/petitions/${slug}`).expect(200);
      expect(closed.text).toContain('This petition closed on 24 June 2026 with 3 signatures.');
      expect(closed.text).not.toContain('id="sign-heading"');
      expect(closed.text).not.toContain('Be the first');
      expect(closed.text).toContain('3 signatures');
      const fr = await t.agent().get(`/petitions/${slug}?lang=fr`).expect(200);
      expect(fr.text).toContain('Cette pétition a été close le 24 juin 2026 avec 3 signatures.');
      expect((await row())!.state).toBe('open'); // the background step has not run

      expect((await t.agent().get(`/petitions/${slug}.json`).expect(200)).body).toMatchObject({
        state: 'closed',
        closesAt: null,
        closedAt: '2026-06-24T21:59:00.000Z',
        count: 3,
      });
      const api = await t.agent().get(`/api/v1/petitions/${slug}`).expect(200);
      expect(api.body).toMatchObject({ state: 'closed', closesAt: null, closedAt: '2026-06-24T21:59:00.000Z' });
      const list = await t.agent().get('/api/v1/petitions').expect(200);
      const listed = (list.body as { petitions: Array<{ slug: string; state: string }> }).petitions;
      expect(listed.find((p) => p.slug === slug)).toMatchObject({ state: 'closed' });
    });

    it('are kept by no cache past the closing time', async () => {
      await setClosing('2026-06-24');
      const paths = [
        `/petitions/${slug}`,
        `/petitions/${slug}.json`,
        `/api/v1/petitions/${slug}`,
        '/',
        '/api/v1/petitions',
      ];
      // Far from it: the usual interval (COUNT_REFRESH_SECONDS is 10 in tests), stale serving allowed.
      for (const path of paths) {
        const res = await t.agent().get(path).expect(200);
        expect([path, res.headers['cache-control']]).toEqual([
          path,
          expect.stringMatching(/^public, max-age=10, stale-while-revalidate=20/),
        ]);
      }
      // 25 seconds before: kept 10 s with no stale serving; 4 seconds before: kept 4 s.
      now = endOf24June - 25_000;
      for (const path of paths) {
        const res = await t.agent().get(path).expect(200);
        expect([path, res.headers['cache-control']]).toEqual([path, 'public, max-age=10, must-revalidate']);
      }
      now = endOf24June - 4_000;
      for (const path of paths) {
        const res = await t.agent().get(path).expect(200);
        expect([path, res.headers['cache-control']]).toEqual([path, 'public, max-age=4, must-revalidate']);
      }
      // A first `?lang=` visit sets the language cookie: that answer stays the visitor's own, near the time too.
      const first = await t.agent().get(`/petitions/${slug}?lang=fr`).expect(200);
      expect(first.headers['set-cookie']).toBeDefined();
      expect(first.headers['cache-control']).toBe('private, no-cache');
      // Closed: the usual interval again.
      now = endOf24June;
      const closed = await t.agent().get(`/petitions/${slug}`).expect(200);
      expect(closed.headers['cache-control']).toMatch(/^public, max-age=10, stale-while-revalidate=20/);
    });

    it('refuse a signature at once after the closing time, with a clear message', async () => {
      await setClosing('2026-06-24');
      const agent = t.agent();
      // The open page is read and kept 2 s before: well within the count interval (10 s).
      now = endOf24June - 2_000;
      expect((await agent.get(`/petitions/${slug}`).expect(200)).text).toContain('id="sign-heading"');
      now = endOf24June + 1;
      const page = await agent.get(`/petitions/${slug}`).expect(200);
      expect(page.text).not.toContain('id="sign-heading"');
      expect(page.text).toContain('This petition closed on 24 June 2026');
      const res = await agent
        .post(`/petitions/${slug}/signatures`)
        .set(sameOrigin)
        .type('form')
        .send({ name: 'Late Comer', email: 'late@example.org', country: 'FR' });
      expect(res.status).toBe(409);
      expect(res.text).toContain('This petition is closed');
      expect(res.text).toContain('no longer accepts signatures');
      const signatures = await t.services.store.all(t.services.store.qb.selectFrom('signatures').select('id'));
      expect(signatures).toEqual([]);
    });

    it('still take a signature a minute before the closing time', async () => {
      await setClosing('2026-06-24');
      now = endOf24June - minute;
      const res = await sign(t.agent(), slug);
      expect(res.status).toBe(303);
    });

    it('list closed petitions on the home page ("Closed —") and in the archive, newest closed first', async () => {
      await addValidatedSignaturesTo(t.services.store, slug, [
        { name: 'A', country: 'FR' },
        { name: 'B', country: 'BE' },
      ]);
      const empty = await t.agent().get('/petitions/archive').expect(200);
      expect(empty.text).toContain('No petition has closed yet.');
      const home = await t.agent().get('/').expect(200);
      expect(home.text).toContain('href="/petitions/archive"');
      expect(home.text).not.toContain('Closed —');

      // One closed by hand on 15 June, one past its closing date on 24 June (not yet written down).
      now = start + day;
      await organiser
        .post('/admin/petitions/protect-civil-society/state')
        .type('form')
        .send({ _csrf: token, state: 'closed', confirm: 'yes' });
      await setClosing('2026-06-24');
      now = endOf24June + day;

      const after = await t.agent().get('/').expect(200);
      expect(after.text).toContain('Closed — 2 signatures');
      expect(after.text).toContain('Closed — 0 signatures');
      const fr = await t.agent().get('/?lang=fr').expect(200);
      expect(fr.text).toContain('Close — 2 signatures');

      const archive = await t.agent().get('/petitions/archive').expect(200);
      expect(archive.headers['cache-control']).toMatch(/^public, max-age=/);
      const first = archive.text.indexOf(`href="/petitions/${slug}"`);
      const second = archive.text.indexOf('href="/petitions/protect-civil-society"');
      expect(first).toBeGreaterThan(0);
      expect(second).toBeGreaterThan(first);
      expect(archive.text).toContain('Closed on 24 June 2026 with 2 signatures');
      expect(archive.text).toContain('Closed on 15 June 2026 with 0 signatures');
      const frArchive = await t.agent().get('/petitions/archive?lang=fr').expect(200);
      expect(frArchive.text).toContain('Close le 24 juin 2026 avec 2 signatures');
      // A new petition (closed until first opened) is not in the archive.
      await organiser
        .post('/admin/petitions')
        .type('form')
        .send({ _csrf: token, slug: 'not-yet-open', goal: '10', titleEn: 'Not yet open', bodyEn: 'Text.' })
        .expect(303);
      expect((await t.agent().get('/petitions/archive').expect(200)).text).not.toContain('not-yet-open');
    });
  });

  describe('the background step', () => {
    it('writes down as closed, at their closing time, the open petitions whose time has come', async () => {
      await setClosing('2026-06-24');
      expect(await t.services.petitions.closeDue()).toEqual([]);
      now = endOf24June + 5 * minute;
      expect(await t.services.petitions.closeDue()).toEqual([slug]);
      expect(await row()).toMatchObject({ state: 'closed', closed_at: endOf24June });
      // A second process running it finds nothing left to do.
      expect(await t.services.petitions.closeDue()).toEqual([]);
    });

    it('runs with the server’s background work', async () => {
      await setClosing('2026-06-24');
      now = endOf24June + minute;
      t.services.startBackground({ delivery: false });
      await until(async () => (await row())!.state === 'closed', 'the petition closed by the background step');
      expect((await row())!.closed_at).toBe(endOf24June);
    });
  });
});
