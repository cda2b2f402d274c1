/**
 * The Temporal API key from Secrets Manager (`TEMPORAL_API_KEY_SECRET_ID`), for the receiver's
 * Lambda and hosts that cannot inject secrets as environment variables. Read once per process,
 * in the Region the process runs in; the key is never logged.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ErrorType, OperatorError } from '../domain/errors.js';
import type { Env } from '../worker/config.js';

export async function withApiKeyFromSecret(env: Env): Promise<Env> {
  if (env.TEMPORAL_API_KEY || !env.TEMPORAL_API_KEY_SECRET_ID) return env;
  const id = env.TEMPORAL_API_KEY_SECRET_ID;
  try {
    const out = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: id }));
    const key = out.SecretString?.trim();
    if (!key) throw new Error('the secret has no string value');
    return { ...env, TEMPORAL_API_KEY: key };
  } catch (err) {
    throw new OperatorError(
      ErrorType.ConfigInvalid,
      `TEMPORAL_API_KEY_SECRET_ID=${id}: cannot read the Temporal API key (${(err as Error).name}: ${(err as Error).message.split('\n')[0]}); check the secret exists in this Region and the role may call secretsmanager:GetSecretValue on it`,
    );
  }
}
