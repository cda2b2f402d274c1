/** The environment schema (worker/config.ts): every variable secrets-dr reads, validated with an error naming it. */
import { describe, expect, it } from 'vitest';
import { envValue, loadEnv } from '../../worker/config.js';
import { OperatorError } from '../../domain/errors.js';

const problemsOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    if (err instanceof OperatorError) return err.problems.map((p) => `${p.path}: ${p.message}`);
    throw err;
  }
  throw new Error('expected an OperatorError');
};

describe('configuration from the environment', () => {
  it('defaults: no receiver, no price override; the deprecated SECRETS_DR_WRITERS_PER_REGION is accepted and unset', () => {
    const env = loadEnv({});
    expect(env.SECRETS_DR_WRITERS_PER_REGION).toBeUndefined();
    expect(loadEnv({ SECRETS_DR_WRITERS_PER_REGION: '3' }).SECRETS_DR_WRITERS_PER_REGION).toBe('3');
    expect([env.SECRETS_DR_RECEIVER_API_KEY, env.SECRETS_DR_RECEIVER_URL, env.SECRETS_DR_PRICE_SECRET_MONTH, env.SECRETS_DR_READY_FILE]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  it('every bad value is reported at once, naming the variable and what it expects', () => {
    const problems = problemsOf(() =>
      loadEnv({
        SECRETS_DR_AWS_TIMEOUT_MS: 'soon',
        SECRETS_DR_RECEIVER_API_KEY: 'short',
        SECRETS_DR_RECEIVER_URL: 'receiver',
        SECRETS_DR_PRICE_SECRET_MONTH: 'cheap',
      }),
    );
    expect(problems).toEqual([
      expect.stringMatching(/^SECRETS_DR_AWS_TIMEOUT_MS: /),
      expect.stringMatching(/^SECRETS_DR_RECEIVER_API_KEY: the receiver API key must have at least 16 characters/),
      expect.stringMatching(/^SECRETS_DR_RECEIVER_URL: expected a URL such as https:\/\/receiver.example.com/),
      expect.stringMatching(/^SECRETS_DR_PRICE_SECRET_MONTH: must be a number of US dollars ≥ 0, e.g. 0.40; unset it to use \$/),
    ]);
    expect(problemsOf(() => loadEnv({ SECRETS_DR_AWS_TIMEOUT_MS: '10' }))).toEqual([expect.stringMatching(/^SECRETS_DR_AWS_TIMEOUT_MS: .*100/)]);
  });

  it('SECRETS_DR_LOG_LEVEL: any case, trimmed; a wrong level is an error naming the variable, not a silent default', () => {
    expect(envValue('SECRETS_DR_LOG_LEVEL', { SECRETS_DR_LOG_LEVEL: ' debug ' })).toBe('DEBUG');
    expect(envValue('SECRETS_DR_LOG_LEVEL', {})).toBeUndefined();
    expect(problemsOf(() => envValue('SECRETS_DR_LOG_LEVEL', { SECRETS_DR_LOG_LEVEL: 'verbose' }))).toEqual([
      expect.stringMatching(/^SECRETS_DR_LOG_LEVEL: expected one of TRACE, DEBUG, INFO, WARN, ERROR/),
    ]);
  });

  it('envValue reads one variable now, through the same schema', () => {
    expect(envValue('SECRETS_DR_AWS_TIMEOUT_MS', { SECRETS_DR_AWS_TIMEOUT_MS: '3000' })).toBe(3000);
    expect(envValue('SECRETS_DR_TASK_QUEUE_PREFIX', {})).toBe('secrets-dr');
    expect(envValue('SECRETS_DR_RECEIVER_API_KEY', {})).toBeUndefined();
    expect(problemsOf(() => envValue('SECRETS_DR_RECEIVER_API_KEY', { SECRETS_DR_RECEIVER_API_KEY: 'short' }))).toEqual([
      'SECRETS_DR_RECEIVER_API_KEY: the receiver API key must have at least 16 characters',
    ]);
  });
});
