/** GetRandomPassword with all of its options. */
import { randomInt } from 'node:crypto';
import { invalidParam } from './model.js';

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = LOWER.toUpperCase();
const DIGITS = '0123456789';
const PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';

interface PasswordOptions {
  PasswordLength?: number;
  ExcludeCharacters?: string;
  ExcludeNumbers?: boolean;
  ExcludePunctuation?: boolean;
  ExcludeUppercase?: boolean;
  ExcludeLowercase?: boolean;
  IncludeSpace?: boolean;
  RequireEachIncludedType?: boolean;
}

export function generatePassword(opts: PasswordOptions = {}): string {
  const length = opts.PasswordLength ?? 32;
  if (!Number.isInteger(length) || length < 1 || length > 4096) throw invalidParam('PasswordLength must be between 1 and 4096.');
  const exclude = new Set(opts.ExcludeCharacters ?? '');
  const keep = (set: string): string => [...set].filter((c) => !exclude.has(c)).join('');
  const classes: string[] = [];
  if (!opts.ExcludeLowercase) classes.push(keep(LOWER));
  if (!opts.ExcludeUppercase) classes.push(keep(UPPER));
  if (!opts.ExcludeNumbers) classes.push(keep(DIGITS));
  if (!opts.ExcludePunctuation) classes.push(keep(PUNCTUATION));
  if (opts.IncludeSpace) classes.push(keep(' '));
  const usable = classes.filter((c) => c.length > 0);
  const all = usable.join('');
  if (all.length === 0) throw invalidParam("The password can't be generated: every character type is excluded.");
  const requireEach = opts.RequireEachIncludedType ?? true;
  if (requireEach && usable.length > length) {
    throw invalidParam('PasswordLength is too short to include one character of each included type.');
  }
  const chars: string[] = [];
  if (requireEach) for (const c of usable) chars.push(c[randomInt(c.length)]!);
  while (chars.length < length) chars.push(all[randomInt(all.length)]!);
  // Fisher-Yates so the required characters are not always first.
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  return chars.join('');
}
