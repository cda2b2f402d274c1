/**
 * The lab's optional JSON state file: loaded at start when present, saved (debounced, async,
 * atomic rename) after changes and on close. Lab time never runs backwards across a restart.
 */
import { existsSync, readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import type { ScaledClock } from './clock.js';
import type { EventBridgeService } from './eventbridge/service.js';
import type { LambdaFunctions } from './lambda/functions.js';
import type { SecretsManagerService } from './secrets-manager/service.js';
import type { AccountDirectory } from './accounts/directory.js';
import type { AccountServices } from './accounts/services.js';
import type { KmsKeyPolicies } from './kms/key-policies.js';

export interface StatefulParts {
  clock: ScaledClock;
  secretsManager: SecretsManagerService;
  eventBridge: EventBridgeService;
  functions: LambdaFunctions;
  /** The accounts other than the default one (their services), STS keys, roles and KMS key policies. */
  accounts?: {
    defaultAccountId: string;
    list(): AccountServices[];
    get(accountId: string): AccountServices;
    directory: AccountDirectory;
    kms: KmsKeyPolicies;
  };
}

export class LabStateFile {
  private timer: NodeJS.Timeout | undefined;
  private saving: Promise<void> = Promise.resolve();
  private closed = false;
  private parts: StatefulParts | undefined;

  constructor(
    private readonly path: string | undefined,
    private readonly log: (line: string) => void,
  ) {}

  /** The services whose state is saved; changes before this are not saved. */
  attach(parts: StatefulParts): void {
    this.parts = parts;
  }

  /** Schedules a save (250 ms later; no-op without a path, or after close). */
  readonly markDirty = (): void => {
    if (!this.path || this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.save();
    }, 250);
    this.timer.unref();
  };

  async save(): Promise<void> {
    const path = this.path;
    const p = this.parts;
    if (!path || !p) return;
    const body = JSON.stringify({
      version: 1,
      savedAt: new Date().toISOString(),
      clock: { now: p.clock.now(), speed: p.clock.speed },
      secretsManager: p.secretsManager.snapshot(),
      eventBridge: p.eventBridge.snapshot(),
      lambda: p.functions.snapshot(),
      ...(p.accounts
        ? {
            accounts: Object.fromEntries(
              p.accounts
                .list()
                .filter((a) => a.accountId !== p.accounts!.defaultAccountId)
                .map((a) => [
                  a.accountId,
                  { secretsManager: a.secretsManager.snapshot(), eventBridge: a.eventBridge.snapshot(), lambda: a.functions.snapshot() },
                ]),
            ),
            directory: p.accounts.directory.snapshot(),
            kms: p.accounts.kms.snapshot(),
          }
        : {}),
    });
    this.saving = this.saving
      .then(async () => {
        const tmp = `${path}.${process.pid}.tmp`;
        await writeFile(tmp, body, { mode: 0o600 });
        await rename(tmp, path);
      })
      .catch((e: unknown) => this.log(`lab: could not save state to ${path}: ${(e as Error).message}`));
    await this.saving;
  }

  /** Restores the attached services from the file, if there is one. */
  load(): void {
    const p = this.parts;
    if (!this.path || !p || !existsSync(this.path)) return;
    const state = JSON.parse(readFileSync(this.path, 'utf8')) as {
      secretsManager?: unknown;
      eventBridge?: unknown;
      lambda?: unknown;
      clock?: { now?: number };
      accounts?: Record<string, { secretsManager?: unknown; eventBridge?: unknown; lambda?: unknown }>;
      directory?: unknown;
      kms?: unknown;
    };
    if (state.secretsManager) p.secretsManager.restore(state.secretsManager);
    if (state.lambda) p.functions.restore(state.lambda);
    if (state.eventBridge) p.eventBridge.restore(state.eventBridge);
    if (p.accounts) {
      if (state.directory) p.accounts.directory.restore(state.directory);
      if (state.kms) p.accounts.kms.restore(state.kms);
      for (const [id, a] of Object.entries(state.accounts ?? {})) {
        const services = p.accounts.get(id);
        if (a.secretsManager) services.secretsManager.restore(a.secretsManager);
        if (a.lambda) services.functions.restore(a.lambda);
        if (a.eventBridge) services.eventBridge.restore(a.eventBridge);
      }
    }
    if (typeof state.clock?.now === 'number' && state.clock.now > p.clock.now()) p.clock.advance(state.clock.now - p.clock.now());
    this.log(`lab: state loaded from ${this.path}`);
  }

  /** No more scheduled saves (the lab is closing; it calls save() once more at the end). */
  stopScheduling(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
