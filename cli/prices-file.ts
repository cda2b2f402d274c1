/**
 * The prices a cost estimate uses: built in (domain/prices.ts), or a JSON price file named by
 * `--prices FILE` or SECRETS_DR_PRICES (the flag wins). SECRETS_DR_PRICE_SECRET_MONTH still
 * overrides the secret's monthly price alone. Every cost figure (plan --cost, setup, backups) comes
 * from here. Both variables are read through the validated env schema (worker/config.ts); every
 * problem is reported with its field.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ErrorType, OperatorError } from '../domain/errors.js';
import { BUILT_IN_PRICES, PRICES, pricesFrom, secretMonthlyPrice, type Prices } from '../domain/prices.js';
import { envValue } from '../worker/config.js';

const PRICES_VARIABLE = 'SECRETS_DR_PRICES';
const PRICE_SECRET_MONTH_VARIABLE = 'SECRETS_DR_PRICE_SECRET_MONTH';

export const PRICES_OPTION = {
  prices: {
    type: 'string',
    placeholder: 'FILE',
    description: `JSON price file {"asOf":"YYYY-MM-DD","secretPerMonthUsd":0.4,"per10kApiCallsUsd":0.05} (default: $${PRICES_VARIABLE}, else the built-in prices of ${PRICES.asOf})`,
  },
} as const;

export function loadPrices(flag?: string, env: NodeJS.ProcessEnv = process.env): Prices {
  const file = flag ?? envValue(PRICES_VARIABLE, env);
  let prices = BUILT_IN_PRICES;
  if (file !== undefined) {
    const path = resolve(file);
    const where = flag !== undefined ? '--prices' : PRICES_VARIABLE;
    let doc: unknown;
    try {
      doc = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file' : (err as Error).message;
      throw new OperatorError(
        ErrorType.ConfigInvalid,
        `${where}: cannot read the price file ${path}: ${why} (expected JSON such as {"asOf":"${PRICES.asOf}","secretPerMonthUsd":${PRICES.secretPerMonthUsd},"per10kApiCallsUsd":${PRICES.per10kApiCallsUsd}})`,
      );
    }
    const r = pricesFrom(doc, path);
    if (!r.ok) throw new OperatorError(ErrorType.ConfigInvalid, `${where}: the price file ${path} is invalid`, r.problems);
    prices = r.prices;
  }
  const override = envValue(PRICE_SECRET_MONTH_VARIABLE, env);
  if (override !== undefined && override.trim() !== '') {
    const price = secretMonthlyPrice(override);
    if (price === undefined) {
      throw new OperatorError(
        ErrorType.ConfigInvalid,
        `${PRICE_SECRET_MONTH_VARIABLE} must be a number of US dollars ≥ 0 (got "${override}"); unset it to use $${prices.secretPerMonthUsd} (${prices.asOf})`,
      );
    }
    prices = { ...prices, secretPerMonthUsd: price, source: `${prices.source} + ${PRICE_SECRET_MONTH_VARIABLE}` };
  }
  return prices;
}
