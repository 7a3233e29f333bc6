/**
 * The version of the wording a signer agrees to (the sign form and the privacy notice), stored with
 * each signature. A version is a promise about what the delegations receive, and a signature is
 * passed on under the promise its signer saw, not a later one:
 * - `2026-11-26`: their name, country and the date they signed.
 * - `2026-11-26.2`: the same, and their postcode or town if they gave it.
 */
export const consentVersion = '2026-11-26.2';

// Add each new version that still tells signers the delegations get their postcode or town.
const postcodeToDelegations = new Set(['2026-11-26.2']);

/** Whether a signer who agreed to this version was told their postcode or town goes to the delegations. */
export function postcodeGoesToDelegations(version: string): boolean {
  return postcodeToDelegations.has(version);
}
