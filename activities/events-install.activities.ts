/**
 * `events install|uninstall` in one Region: the API-key connection, the API destination pointing
 * at the receiver, and the rules (plan alarms, AWS Health issues for Secrets Manager) targeting it.
 * Describe first, then create or update only what differs: a second install writes nothing.
 * The API key comes from this worker's environment (SECRETS_DR_RECEIVER_API_KEY) and goes straight
 * into CreateConnection/UpdateConnection; only its fingerprint is stored (connection description).
 */
import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../domain/errors.js';
import {
  alarmPattern,
  eventsInstallNames,
  healthPattern,
  RECEIVER_API_KEY_HEADER,
  RECEIVER_TARGET_ID,
  receiverEndpoint,
  type RegionInstallResult,
} from '../domain/events-install.js';
import type { RegionClients } from './clients.js';
import { isNotFound, toFailure } from './aws-errors.js';

/** Inbound AWS events (aws.cloudwatch, aws.health) arrive on the default bus only. */
const INBOUND_BUS = 'default';

function apiKeyFingerprint(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

const canonical = (json: string | undefined) => {
  try {
    return JSON.stringify(sortKeys(JSON.parse(json ?? 'null')));
  } catch {
    return json;
  }
};
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, x]) => [k, sortKeys(x)]),
    );
  return v;
}

interface EventsInstallDeps {
  /** The receiver's API key, read when an install needs it (the worker passes its validated SECRETS_DR_RECEIVER_API_KEY); default: none. */
  apiKey?: () => string | undefined;
}

export function createEventsInstallActivities({ region, eventBridge }: RegionClients, deps: EventsInstallDeps = {}) {
  const readKey = deps.apiKey ?? (() => undefined);

  async function call<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw toFailure(err, what, region);
    }
  }

  return {
    async installEventRules(input: {
      region: string;
      planName: string;
      alarms: string[];
      receiverUrl: string;
      apiKeyFingerprint?: string;
      roleArn?: string;
    }): Promise<RegionInstallResult> {
      if (input.region !== region) throw new Error(`installEventRules for ${input.region} reached the worker of ${region} (task queue routing bug)`);
      const key = readKey();
      if (!key)
        throw ApplicationFailure.nonRetryable(
          `the worker serving ${region} has no SECRETS_DR_RECEIVER_API_KEY: set it (the receiver reads the same variable)`,
          ErrorType.ConfigInvalid,
        );
      const fingerprint = apiKeyFingerprint(key);
      if (input.apiKeyFingerprint && input.apiKeyFingerprint !== fingerprint) {
        throw ApplicationFailure.nonRetryable(
          `the worker serving ${region} holds a different SECRETS_DR_RECEIVER_API_KEY than the one given to events install`,
          ErrorType.ConfigInvalid,
        );
      }
      const names = eventsInstallNames(input.planName);
      const out: RegionInstallResult = { region, created: [], updated: [], unchanged: [], removed: [] };
      const description = `secrets-dr receiver for plan ${input.planName} (key sha256:${fingerprint})`;
      const auth = { ApiKeyAuthParameters: { ApiKeyName: RECEIVER_API_KEY_HEADER, ApiKeyValue: key } };

      const conn = await call('DescribeConnection', () => eventBridge.describeConnection({ Name: names.connection }));
      let connectionArn = conn?.ConnectionArn;
      if (!conn) {
        const c = await call('CreateConnection', () =>
          eventBridge.createConnection({ Name: names.connection, AuthorizationType: 'API_KEY', AuthParameters: auth, Description: description }),
        );
        connectionArn = c?.ConnectionArn;
        out.created.push(`connection ${names.connection}`);
      } else if (conn.Description !== description) {
        await call('UpdateConnection', () =>
          eventBridge.updateConnection({ Name: names.connection, AuthorizationType: 'API_KEY', AuthParameters: auth, Description: description }),
        );
        out.updated.push(`connection ${names.connection} (API key changed)`);
      } else out.unchanged.push(`connection ${names.connection}`);

      const endpoint = receiverEndpoint(input.receiverUrl, input.planName);
      const dest = await call('DescribeApiDestination', () => eventBridge.describeApiDestination({ Name: names.destination }));
      let destinationArn = dest?.ApiDestinationArn;
      if (!dest) {
        const d = await call('CreateApiDestination', () =>
          eventBridge.createApiDestination({
            Name: names.destination,
            ConnectionArn: connectionArn!,
            InvocationEndpoint: endpoint,
            HttpMethod: 'POST',
            InvocationRateLimitPerSecond: 10,
          }),
        );
        destinationArn = d?.ApiDestinationArn;
        out.created.push(`api-destination ${names.destination} → ${endpoint}`);
      } else if (dest.InvocationEndpoint !== endpoint || dest.ConnectionArn !== connectionArn || dest.HttpMethod !== 'POST') {
        await call('UpdateApiDestination', () =>
          eventBridge.updateApiDestination({ Name: names.destination, ConnectionArn: connectionArn!, InvocationEndpoint: endpoint, HttpMethod: 'POST' }),
        );
        out.updated.push(`api-destination ${names.destination} → ${endpoint}`);
      } else out.unchanged.push(`api-destination ${names.destination}`);

      const rules: Array<{ name: string; pattern?: Record<string, unknown>; what: string }> = [
        {
          name: names.alarmRule,
          pattern: input.alarms.length ? alarmPattern(input.alarms) : undefined,
          what: `CloudWatch alarms ${input.alarms.join(', ')} in ALARM`,
        },
        { name: names.healthRule, pattern: healthPattern(), what: 'AWS Health issues for Secrets Manager' },
      ];
      for (const rule of rules) {
        const existing = await call('DescribeRule', () => eventBridge.describeRule({ Name: rule.name, EventBusName: INBOUND_BUS }));
        if (!rule.pattern) {
          // No alarms in the plan (any more): a rule from an earlier install goes.
          if (existing) out.removed.push(...(await removeRule(rule.name)));
          continue;
        }
        const pattern = JSON.stringify(rule.pattern);
        const putRule = () =>
          call('PutRule', () =>
            eventBridge.putRule({
              Name: rule.name,
              EventBusName: INBOUND_BUS,
              EventPattern: pattern,
              State: 'ENABLED',
              Description: `secrets-dr ${input.planName}: ${rule.what}`,
            }),
          );
        if (!existing) {
          await putRule();
          out.created.push(`rule ${rule.name}`);
        } else if (canonical(existing.EventPattern) !== canonical(pattern) || existing.State !== 'ENABLED') {
          await putRule();
          out.updated.push(`rule ${rule.name}`);
        } else out.unchanged.push(`rule ${rule.name}`);
        const targets = (await call('ListTargetsByRule', () => eventBridge.listTargetsByRule({ Rule: rule.name, EventBusName: INBOUND_BUS })))?.Targets ?? [];
        const t = targets.find((x) => x.Id === RECEIVER_TARGET_ID);
        if (t && t.Arn === destinationArn && (t.RoleArn ?? undefined) === input.roleArn) {
          out.unchanged.push(`target ${rule.name}/${RECEIVER_TARGET_ID}`);
          continue;
        }
        const put = await call('PutTargets', () =>
          eventBridge.putTargets({
            Rule: rule.name,
            EventBusName: INBOUND_BUS,
            Targets: [{ Id: RECEIVER_TARGET_ID, Arn: destinationArn!, ...(input.roleArn ? { RoleArn: input.roleArn } : {}) }],
          }),
        );
        if (put?.FailedEntryCount)
          throw ApplicationFailure.nonRetryable(`PutTargets in ${region}: ${put.FailedEntries?.[0]?.ErrorMessage}`, ErrorType.AwsRejected);
        (t ? out.updated : out.created).push(`target ${rule.name}/${RECEIVER_TARGET_ID}`);
      }
      return out;
    },

    async uninstallEventRules(input: { region: string; planName: string }): Promise<RegionInstallResult> {
      if (input.region !== region) throw new Error(`uninstallEventRules for ${input.region} reached the worker of ${region} (task queue routing bug)`);
      const names = eventsInstallNames(input.planName);
      const out: RegionInstallResult = { region, created: [], updated: [], unchanged: [], removed: [] };
      for (const rule of [names.alarmRule, names.healthRule]) out.removed.push(...(await removeRule(rule)));
      if (await call('DescribeApiDestination', () => eventBridge.describeApiDestination({ Name: names.destination }))) {
        await call('DeleteApiDestination', () => eventBridge.deleteApiDestination({ Name: names.destination }));
        out.removed.push(`api-destination ${names.destination}`);
      }
      if (await call('DescribeConnection', () => eventBridge.describeConnection({ Name: names.connection }))) {
        await call('DeleteConnection', () => eventBridge.deleteConnection({ Name: names.connection }));
        out.removed.push(`connection ${names.connection}`);
      }
      return out;
    },
  };

  /** Our target, then the rule (only rules with our deterministic names). */
  async function removeRule(name: string): Promise<string[]> {
    const removed: string[] = [];
    const rule = await call('DescribeRule', () => eventBridge.describeRule({ Name: name, EventBusName: INBOUND_BUS }));
    if (!rule) return removed;
    const targets = (await call('ListTargetsByRule', () => eventBridge.listTargetsByRule({ Rule: name, EventBusName: INBOUND_BUS })))?.Targets ?? [];
    if (targets.some((t) => t.Id === RECEIVER_TARGET_ID)) {
      await call('RemoveTargets', () => eventBridge.removeTargets({ Rule: name, EventBusName: INBOUND_BUS, Ids: [RECEIVER_TARGET_ID] }));
      removed.push(`target ${name}/${RECEIVER_TARGET_ID}`);
    }
    if (targets.every((t) => t.Id === RECEIVER_TARGET_ID)) {
      await call('DeleteRule', () => eventBridge.deleteRule({ Name: name, EventBusName: INBOUND_BUS }));
      removed.push(`rule ${name}`);
    }
    return removed;
  }
}

export type EventsInstallActivities = ReturnType<typeof createEventsInstallActivities>;
