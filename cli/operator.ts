/** Who is at the keyboard: the name a command records with an approval, a rejection or a veto. */
import { userInfo } from 'node:os';

export function operatorName(): string | undefined {
  try {
    return userInfo().username;
  } catch {
    return undefined; // no passwd entry (a container with an arbitrary uid): the answer stays anonymous
  }
}
