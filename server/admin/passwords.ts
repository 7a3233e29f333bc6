import crypto from 'node:crypto';
import { hash, verify, type Algorithm } from '@node-rs/argon2';

/** Long passphrases beat complexity rules (NIST SP 800-63B); 12 is the floor. */
export const minPasswordLength = 12;

// Argon2id (2) with the library's defaults (19 MiB, 2 passes, the OWASP minimum). Spelled as a number
// because the library's Algorithm is a `const enum` that does not exist at run time.
const options = { algorithm: 2 as Algorithm };

export function hashPassword(password: string): Promise<string> {
  return hash(password, options);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false; // a malformed hash never lets anyone in
  }
}

let dummy: Promise<string> | undefined;

/**
 * Verifies against a throwaway hash, so a login with an unknown email takes as long as one with a
 * wrong password and timing does not tell which addresses have accounts.
 */
export async function verifyDummy(password: string): Promise<false> {
  dummy ??= hashPassword(crypto.randomBytes(16).toString('hex'));
  await verifyPassword(await dummy, password);
  return false;
}
