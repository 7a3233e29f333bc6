import { Router, type Request, type Response } from 'express';
import type { i18n } from 'i18next';
import { notFound } from '../../errors';
import { cacheable } from '../../http/caching';
import type { Render } from '../../http/render';
import type { Lang } from '../../i18n/i18n';
import type { LettersService } from '../lettersService';
import { isReplyAnswer, replyAnswers } from './replyAnswers';
import { responsivenessLines } from './responsivenessView';
import { formatDay } from '../../time/dates';

/**
 * "Did you get a reply?": the page the mailed link opens (a GET only shows the question, as mail
 * scanners fetch links; the buttons POST), and the public responsiveness table with its methodology.
 */
export function repliesRoutes(deps: { letters: LettersService; render: Render; i18n: i18n }): Router {
  const { letters, render } = deps;
  const t = (key: string, lang: Lang) => deps.i18n.t(key, { lng: lang });
  const router = Router();

  // The link holds a token: never kept, never sent on as a Referer (see lettersRoutes' privatePage).
  function privatePage(res: Response) {
    res.set('Cache-Control', 'no-store');
    res.set('Referrer-Policy', 'same-origin');
  }

  async function showQuestion(req: Request, res: Response, notice?: 'saved' | 'savedLate', error = false) {
    const lang = res.locals.lang as Lang;
    const page = await letters.replyPage(String(req.params.token), lang);
    if (!page) return render(req, res, 'letters/link-invalid', {}, 404);
    const { letter, reply } = page;
    render(
      req,
      res,
      'letters/reply',
      {
        title: `${error ? `${t('replies.page.errorPrefix', lang)} ` : ''}${t('replies.page.title', lang)}`,
        token: req.params.token,
        demand: page.demand,
        target: page.target,
        selfSent: letter.state === 'self_sent',
        sentDate: formatDay(letter.sentAt!, lang),
        countsUntil: formatDay(page.countsUntil, lang),
        late: page.late,
        answers: replyAnswers.map((value) => ({
          value,
          labelKey: `replies.answers.${value}`,
          current: reply?.answer === value,
        })),
        current: reply?.answer
          ? { labelKey: `replies.answers.${reply.answer}`, date: formatDay(reply.answeredAt!, lang) }
          : undefined,
        // A late change leaves the answer given in time counting: the page says which one.
        countedKey:
          reply?.countedAnswer && reply.countedAnswer !== reply.answer
            ? `replies.answers.${reply.countedAnswer}`
            : undefined,
        noticeKey: notice && `replies.page.${notice}`,
        error,
      },
      error ? 400 : 200,
    );
  }

  router.get('/letters/:token/reply', async (req, res) => {
    privatePage(res);
    const saved = req.query.saved;
    await showQuestion(req, res, saved === 'late' ? 'savedLate' : saved === '1' ? 'saved' : undefined);
  });

  router.post('/letters/:token/reply', async (req, res) => {
    privatePage(res);
    const answer: unknown = (req.body as Record<string, unknown> | undefined)?.answer;
    if (!isReplyAnswer(answer)) return showQuestion(req, res, undefined, true);
    const result = await letters.answerReply(String(req.params.token), answer);
    if (!result) return render(req, res, 'letters/link-invalid', {}, 404);
    res.redirect(303, `/letters/${req.params.token}/reply?saved=${result.counted ? '1' : 'late'}`);
  });

  router.get('/responsiveness', async (req, res) => {
    cacheable(req, res);
    const lang = res.locals.lang as Lang;
    const slug = typeof req.query.demand === 'string' ? req.query.demand : undefined;
    const demand = slug === undefined ? undefined : await letters.demand(slug, lang);
    if (slug !== undefined && !demand) throw notFound();
    const lines = responsivenessLines(await letters.responsiveness(demand?.id), lang);
    render(req, res, 'letters/responsiveness', {
      title: demand ? t('responsiveness.title', lang) + ` – ${demand.title}` : t('responsiveness.title', lang),
      demand,
      lines,
    });
  });

  router.get('/responsiveness/methodology', (req, res) => {
    cacheable(req, res);
    render(req, res, 'letters/responsiveness-methodology', {
      title: t('responsiveness.methodology.title', res.locals.lang as Lang),
    });
  });

  return router;
}
