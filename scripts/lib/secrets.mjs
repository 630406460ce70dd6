/**
 * Passwords the local set-up generates (ClickHouse roles, NATS users): one file per user in the
 * secrets directory, `<dir>/<prefix>-<name>.password`, the directory 0700 and each file 0600,
 * generated once and read again by every later run.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/**
 * 32 characters of [a-z0-9], the first a letter (nats.conf reads a value starting with a digit as
 * a number). Bytes at or above the alphabet's largest multiple below 256 are drawn again, so that
 * every character is as likely.
 */
export function generatePassword() {
  let out = '';
  while (out.length < 32) {
    for (const b of crypto.randomBytes(48)) {
      const n = out.length === 0 ? 26 : ALPHABET.length;
      if (b < 256 - (256 % n) && out.length < 32) out += ALPHABET[b % n];
    }
  }
  return out;
}

const fileOf = (dir, prefix, name) => path.join(dir, `${prefix}-${name}.password`);

/** The passwords of `names`: read when present, generated once otherwise. */
export function ensurePasswords(dir, prefix, names) {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
  const out = {};
  for (const name of names) {
    const file = fileOf(dir, prefix, name);
    let pw = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : '';
    if (!pw) {
      pw = generatePassword();
      fs.writeFileSync(file, `${pw}\n`, { mode: 0o600 });
    }
    fs.chmodSync(file, 0o600);
    out[name] = pw;
  }
  return out;
}

/** The passwords of `names` when every file is there (nothing generated), else null. */
export function readPasswords(dir, prefix, names) {
  const out = {};
  for (const name of names) {
    const file = fileOf(dir, prefix, name);
    if (!fs.existsSync(file)) return null;
    out[name] = fs.readFileSync(file, 'utf8').trim();
  }
  return out;
}
