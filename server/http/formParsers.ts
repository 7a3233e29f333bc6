import express, { type RequestHandler } from 'express';

/**
 * A urlencoded form parser with the limits given: the site-wide ones below, and larger ones for the
 * few forms longer than those allow (a letter, a campaign update, a delegation's answer), mounted on
 * those forms' paths only, ahead of the site-wide parser, which then finds the body read and leaves it.
 */
export function formParser(limit: string, parameterLimit: number): RequestHandler {
  return express.urlencoded({ extended: false, limit, parameterLimit });
}

/** The site-wide limits (SECURITY 11): every other form fits in 16 kB and 30 fields. */
export const siteFormParser = formParser('16kb', 30);

/** The console's paths (case-insensitive, as Express routes them). */
const consolePath = /^\/admin(\/|$)/i;

/**
 * The site-wide parser for everything outside the console. The console (/admin) reads its own forms,
 * after the login check, so an anonymous request to it never has its body read at all.
 */
export const publicFormParser: RequestHandler = (req, res, next) =>
  consolePath.test(req.path) ? next() : siteFormParser(req, res, next);
