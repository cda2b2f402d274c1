/**
 * Prices used for cost estimates, in one place so they can be checked and overridden.
 * Source: the AWS Secrets Manager pricing page as of 2026-12-01 (AWS-FACTS.md): $0.40 per secret per
 * month (each replica and each backup secret counts as a secret), $0.05 per 10,000 API calls.
 * Override with SECRETS_DR_PRICE_SECRET_MONTH (USD) where a Region or contract differs.
 */
export const PRICES = {
  asOf: '2026-12-01',
  secretPerMonthUsd: 0.4,
  per10kApiCallsUsd: 0.05,
} as const;

/** The monthly price of one secret: PRICES, or the override; undefined when the override is not a number ≥ 0. */
export function secretMonthlyPrice(override?: string): number | undefined {
  if (override === undefined || override.trim() === '') return PRICES.secretPerMonthUsd;
  const n = Number(override);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}
