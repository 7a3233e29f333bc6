/** An error with a status and a message that is safe to show anyone (i18n keys, rendered by the error handler). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly titleKey: string,
    readonly messageKey: string,
  ) {
    super(`${status} ${titleKey}`);
  }
}

export const notFound = () => new HttpError(404, 'errors.notFound.title', 'errors.notFound.message');
