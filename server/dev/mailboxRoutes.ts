import fs from 'node:fs';
import path from 'node:path';
import { Router } from 'express';
import { notFound } from '../errors';
import type { Render } from '../http/render';
import type { CapturedMail } from '../mail/mailer';

function readMail(dir: string, id: string): CapturedMail | undefined {
  if (!/^[\w-]+$/.test(id)) return undefined;
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, `${id}.json`), 'utf8')) as CapturedMail;
  } catch {
    return undefined;
  }
}

/** Text with its web addresses made into links; everything else escaped by the template. */
function linkify(text: string): Array<{ text: string; href?: string }> {
  return text.split(/(https?:\/\/[^\s<>"]+)/g).map((part, i) => (i % 2 ? { text: part, href: part } : { text: part }));
}

/**
 * The development mailbox: mail captured under data/mail/ (when SMTP_URL is unset), listed newest
 * first, each with its links clickable. Never mounted in production.
 */
export function mailboxRoutes(deps: { mailDir: string; render: Render }): Router {
  const { mailDir, render } = deps;
  const router = Router();

  router.get('/dev/mailbox', (req, res) => {
    const files = fs.existsSync(mailDir) ? fs.readdirSync(mailDir).filter((f) => f.endsWith('.json')) : [];
    const mails = files
      .map((f) => readMail(mailDir, f.slice(0, -5)))
      .filter((m): m is CapturedMail => m !== undefined)
      .sort((a, b) => b.date.localeCompare(a.date) || b.id.localeCompare(a.id))
      .slice(0, 200);
    res.set('Cache-Control', 'no-store');
    render(req, res, 'dev/mailbox', { title: 'Mailbox', mails });
  });

  router.get('/dev/mailbox/:id', (req, res) => {
    const mail = readMail(mailDir, req.params.id);
    if (!mail) throw notFound();
    res.set('Cache-Control', 'no-store');
    render(req, res, 'dev/mail', {
      title: mail.subject,
      mail,
      textParts: linkify(mail.text),
      headers: Object.entries(mail.headers).map(([name, value]) => ({ name, value })),
    });
  });

  // The HTML part on its own, sandboxed: no script, and not framable by anything but the mailbox.
  router.get('/dev/mailbox/:id/html', (req, res) => {
    const mail = readMail(mailDir, req.params.id);
    if (!mail) throw notFound();
    res.set(
      'Content-Security-Policy',
      "sandbox allow-popups allow-popups-to-escape-sandbox allow-top-navigation-by-user-activation; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'",
    );
    res.type('html').send(mail.html);
  });

  return router;
}
