/** Console roles, least to most: viewer reads, organiser runs the campaign, admin also manages accounts. */
export const roles = ['viewer', 'organiser', 'admin'] as const;
export type Role = (typeof roles)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (roles as readonly string[]).includes(value);
}

/** Whether `actual` may do what `needed` may: each role can do everything the ones below it can. */
export function hasRole(actual: Role, needed: Role): boolean {
  return roles.indexOf(actual) >= roles.indexOf(needed);
}
