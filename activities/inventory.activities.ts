/**
 * Read-only activities: what a Region holds, in as few calls as AWS allows.
 * `listInventory` walks `ListSecrets` pages (100 per call, with SecretVersionsToStages and
 * PrimaryRegion), so a fleet of N secrets costs ⌈N/100⌉ calls, never N describes.
 */
import { heartbeat } from '@temporalio/activity';
import type { RotationRulesType, SecretListEntry } from '@aws-sdk/client-secrets-manager';
import type { RotationRules } from '../domain/rotation-schedule.js';
import { isAwsManagedKey } from '../domain/kms.js';
import type { InventoryEntry, RegionInventory, ReplicationState } from '../domain/status.js';
import type { RegionClients } from './clients.js';
import { isNotFound, toFailure } from './aws-errors.js';

function currentVersion(entry: SecretListEntry): string | undefined {
  for (const [versionId, stages] of Object.entries(entry.SecretVersionsToStages ?? {})) {
    if (stages?.includes('AWSCURRENT')) return versionId;
  }
  return undefined;
}

/** RotationRules without the SDK's undefined fields (JSON-plain). */
export function rotationRulesOf(r: RotationRulesType | undefined): RotationRules | undefined {
  if (!r) return undefined;
  const out: RotationRules = {};
  if (r.AutomaticallyAfterDays !== undefined) out.AutomaticallyAfterDays = r.AutomaticallyAfterDays;
  if (r.ScheduleExpression) out.ScheduleExpression = r.ScheduleExpression;
  if (r.Duration) out.Duration = r.Duration;
  return Object.keys(out).length ? out : undefined;
}

export function toInventoryEntry(entry: SecretListEntry): InventoryEntry | undefined {
  if (!entry.Name || !entry.ARN) return undefined;
  const out: InventoryEntry = { name: entry.Name, arn: entry.ARN };
  if (entry.PrimaryRegion) out.primaryRegion = entry.PrimaryRegion;
  const current = currentVersion(entry);
  if (current) out.current = current;
  if (entry.DeletedDate) out.deleted = true;
  if (entry.Tags?.length) out.tags = entry.Tags.map((t) => [t.Key ?? '', t.Value ?? '']);
  // Rotation metadata (for the monitor's freshness check); only on secrets that rotate.
  if (entry.RotationEnabled) {
    out.rotationEnabled = true;
    if (entry.LastRotatedDate) out.lastRotatedMs = new Date(entry.LastRotatedDate).getTime();
    if (entry.NextRotationDate) out.nextRotationMs = new Date(entry.NextRotationDate).getTime();
    const rules = rotationRulesOf(entry.RotationRules);
    if (rules) out.rotationRules = rules;
  }
  if (entry.KmsKeyId && !isAwsManagedKey(entry.KmsKeyId)) out.kmsKeyId = entry.KmsKeyId;
  return out;
}

/** ListSecrets pages per `listInventoryPage` call by default (1,000 secrets). */
export const INVENTORY_PAGES_PER_CALL = 10;

export function createInventoryActivities({ region, secretsManager }: RegionClients) {
  return {
    /** Every secret of the Region (incl. those scheduled for deletion), one ListSecrets page per 100. */
    async listInventory(input: { region: string }): Promise<RegionInventory> {
      if (input.region !== region) throw new Error(`listInventory for ${input.region} reached the worker of ${region} (task queue routing bug)`);
      const entries: InventoryEntry[] = [];
      let nextToken: string | undefined;
      let listCalls = 0;
      do {
        let page;
        try {
          page = await secretsManager.listSecrets({ MaxResults: 100, NextToken: nextToken, IncludePlannedDeletion: true });
        } catch (err) {
          throw toFailure(err, 'ListSecrets', region);
        }
        listCalls++;
        for (const e of page.SecretList ?? []) {
          const entry = toInventoryEntry(e);
          if (entry) entries.push(entry);
        }
        nextToken = page.NextToken;
        heartbeat({ listCalls });
      } while (nextToken);
      return { region, entries, listCalls };
    },

    /**
     * One page of the Region's inventory: at most `maxPages` ListSecrets pages (100 each) from
     * `nextToken`, and the token to go on from (absent: the last page). A workflow that reads a whole
     * Region walks these, so no activity result grows with the Region (one result ≤ ~150 KB at the
     * default 10 pages, under Temporal's 256 KB per payload).
     */
    async listInventoryPage(input: { region: string; nextToken?: string; maxPages?: number }): Promise<RegionInventory & { nextToken?: string }> {
      if (input.region !== region) throw new Error(`listInventoryPage for ${input.region} reached the worker of ${region} (task queue routing bug)`);
      const entries: InventoryEntry[] = [];
      let nextToken = input.nextToken;
      let listCalls = 0;
      do {
        let page;
        try {
          page = await secretsManager.listSecrets({ MaxResults: 100, NextToken: nextToken, IncludePlannedDeletion: true });
        } catch (err) {
          throw toFailure(err, 'ListSecrets', region);
        }
        listCalls++;
        for (const e of page.SecretList ?? []) {
          const entry = toInventoryEntry(e);
          if (entry) entries.push(entry);
        }
        nextToken = page.NextToken;
        heartbeat({ listCalls });
      } while (nextToken && listCalls < Math.max(1, input.maxPages ?? INVENTORY_PAGES_PER_CALL));
      return { region, entries, listCalls, ...(nextToken ? { nextToken } : {}) };
    },

    /** The primary's view of replication for a few named secrets (DescribeSecret each). */
    async describeReplication(input: { region: string; names: string[] }): Promise<{ replication: Record<string, ReplicationState[]>; describeCalls: number }> {
      const replication: Record<string, ReplicationState[]> = {};
      let describeCalls = 0;
      for (const name of input.names) {
        try {
          const d = await secretsManager.describeSecret({ SecretId: name });
          describeCalls++;
          replication[name] = (d.ReplicationStatus ?? []).map((r) => ({
            region: r.Region ?? '',
            status: (r.Status ?? 'InProgress') as ReplicationState['status'],
            ...(r.StatusMessage ? { message: r.StatusMessage } : {}),
          }));
        } catch (err) {
          describeCalls++;
          if (isNotFound(err)) continue; // deleted since it was listed
          throw toFailure(err, 'DescribeSecret', region);
        }
        heartbeat({ describeCalls });
      }
      return { replication, describeCalls };
    },
  };
}

export type InventoryActivities = ReturnType<typeof createInventoryActivities>;
