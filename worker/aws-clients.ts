/**
 * Real AWS SDK clients, one set per Region (standard credential chain and endpoint variables). They
 * retry only calls that got no answer, never throttling: worker/sdk-retry.ts says why.
 */
import { SecretsManager } from '@aws-sdk/client-secrets-manager';
import { EventBridge } from '@aws-sdk/client-eventbridge';
import { SSM } from '@aws-sdk/client-ssm';
import { Agent } from 'node:https';
import { Agent as HttpAgent } from 'node:http';
import type { AwsCredentialIdentity } from '@smithy/types';
import type { RegionClients } from '../activities/clients.js';
import { writeGateAtSend } from '../activities/write-governor.js';
import { noAnswerRetryStrategy } from './sdk-retry.js';

interface AwsClientOptions {
  /** Per-request timeout (ms). */
  requestTimeoutMs: number;
  /** Concurrent sockets per Region (writes are quota-bound anyway). */
  maxSockets?: number;
  /**
   * Credentials instead of the standard chain: fixed keys (tests: the lab's worker key), or a
   * provider (a recovery account's keys from STS AssumeRole, refreshed; worker/account-clients.ts).
   */
  credentials?: AwsCredentialIdentity | (() => Promise<AwsCredentialIdentity>);
}

export function createRegionClients(region: string, options: AwsClientOptions): RegionClients {
  const maxSockets = options.maxSockets ?? 200;
  // The SDK builds its NodeHttpHandler from these options.
  const requestHandler = {
    requestTimeout: options.requestTimeoutMs,
    // Without this the SDK only warns on a timeout and keeps waiting on a hung Region.
    throwOnRequestTimeout: true,
    connectionTimeout: Math.min(options.requestTimeoutMs, 5_000),
    httpAgent: new HttpAgent({ keepAlive: true, maxSockets }),
    httpsAgent: new Agent({ keepAlive: true, maxSockets }),
  };
  const secretsManager = new SecretsManager({
    region,
    requestHandler,
    retryStrategy: noAnswerRetryStrategy(),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
  // The write lease's gate, asked again before each attempt of a governed write (activities/write-governor.ts).
  secretsManager.middlewareStack.use(writeGateAtSend);
  return {
    region,
    secretsManager,
    eventBridge: new EventBridge({
      region,
      requestHandler,
      retryStrategy: noAnswerRetryStrategy(),
      ...(options.credentials ? { credentials: options.credentials } : {}),
    }),
    ssm: new SSM({ region, requestHandler, retryStrategy: noAnswerRetryStrategy(), ...(options.credentials ? { credentials: options.credentials } : {}) }),
  };
}
