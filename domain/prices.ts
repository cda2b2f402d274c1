/**
 * Prices used for cost estimates, in one place so they can be checked and overridden.
 * Source: the AWS Secrets Manager pricing page as of 2026-12-01 (AWS-FACTS.md): $0.40 per secret per
 * month (each replica and each backup secret counts as a secret), $0.05 per 10,000 API calls.
 * Override with a JSON price file (`--prices FILE` or SECRETS_DR_PRICES=FILE, validated by
 * `PriceFile`), or only the secret's monthly price with SECRETS_DR_PRICE_SECRET_MONTH (USD).
 */
import { z } from 'zod';
import { issuesToProblems } from './problems.js';
import type { Problem } from './errors.js';

export const PRICES = {
  asOf: '2026-12-01',
  secretPerMonthUsd: 0.4,
  per10kApiCallsUsd: 0.05,
} as const;

/** The prices a cost estimate uses (the defaults, or a price file's). */
export interface Prices {
  asOf: string;
  secretPerMonthUsd: number;
  per10kApiCallsUsd: number;
  /** Where they came from: `built-in` or the price file's path. */
  source: string;
}

const usd = (what: string) => z.number({ error: `expected ${what} in US dollars, a number such as 0.4` }).min(0, { error: `${what} must be ≥ 0` });

/** A price file: its date, and any of the prices; the others keep the built-in ones. */
const PriceFile = z.strictObject({
  asOf: z
    .string({ error: 'expected the date the prices were read, such as "2027-01-15"' })
    .regex(/^\d{4}-\d{2}-\d{2}$/, { error: 'write the date the prices were read as YYYY-MM-DD' }),
  secretPerMonthUsd: usd('the price of one secret per month').optional(),
  per10kApiCallsUsd: usd('the price of 10,000 API calls').optional(),
});

/** The built-in prices with a price file's fields laid over them; every problem with its field. */
export function pricesFrom(doc: unknown, source: string): { ok: true; prices: Prices } | { ok: false; problems: Problem[] } {
  const r = PriceFile.safeParse(doc, { reportInput: true });
  if (!r.success) return { ok: false, problems: issuesToProblems(r.error.issues, doc) };
  return { ok: true, prices: { ...PRICES, ...r.data, source } };
}

export const BUILT_IN_PRICES: Prices = { ...PRICES, source: 'built-in' };

/** The monthly price of one secret: PRICES, or the override; undefined when the override is not a number ≥ 0. */
export function secretMonthlyPrice(override?: string): number | undefined {
  if (override === undefined || override.trim() === '') return PRICES.secretPerMonthUsd;
  const n = Number(override);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}
