import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningLab } from '../../lab/server.js';
import { withApiKeyFromSecret } from '../../cli/temporal-credentials.js';
import { loadEnv } from '../../worker/config.js';
import { P, sm, withLab } from './helpers.js';

let lab: RunningLab;
const saved = { ...process.env };

beforeAll(async () => {
  lab = await withLab();
  // The SDK client inside withApiKeyFromSecret uses the standard chain and endpoint variables.
  Object.assign(process.env, { AWS_ENDPOINT_URL_SECRETS_MANAGER: lab.url, AWS_REGION: P, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' });
  await sm(lab, P).send(new CreateSecretCommand({ Name: 'secrets-dr/payments/temporal-api-key', SecretString: 'tmprl-key-for-test\n' }));
});
afterAll(async () => {
  process.env = saved;
  await lab.close();
});

describe('TEMPORAL_API_KEY_SECRET_ID (the receiver Lambda reads its Temporal key from Secrets Manager)', () => {
  it('reads the key from the secret when no TEMPORAL_API_KEY is set', async () => {
    const env = await withApiKeyFromSecret(loadEnv({ TEMPORAL_API_KEY_SECRET_ID: 'secrets-dr/payments/temporal-api-key' }));
    expect(env.TEMPORAL_API_KEY).toBe('tmprl-key-for-test');
  });

  it('keeps an explicit TEMPORAL_API_KEY without calling AWS', async () => {
    const env = await withApiKeyFromSecret(loadEnv({ TEMPORAL_API_KEY: 'given', TEMPORAL_API_KEY_SECRET_ID: 'no-such-secret' }));
    expect(env.TEMPORAL_API_KEY).toBe('given');
  });

  it('names the variable and what to check when the secret cannot be read, without any value', async () => {
    await expect(withApiKeyFromSecret(loadEnv({ TEMPORAL_API_KEY_SECRET_ID: 'secrets-dr/payments/missing' }))).rejects.toThrow(
      /TEMPORAL_API_KEY_SECRET_ID=secrets-dr\/payments\/missing: cannot read the Temporal API key \(ResourceNotFoundException.*GetSecretValue/,
    );
  });
});
