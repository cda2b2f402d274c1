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

export interface StatefulParts {
  clock: ScaledClock;
  secretsManager: SecretsManagerService;
  eventBridge: EventBridgeService;
  functions: LambdaFunctions;
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
    };
    if (state.secretsManager) p.secretsManager.restore(state.secretsManager);
    if (state.lambda) p.functions.restore(state.lambda);
    if (state.eventBridge) p.eventBridge.restore(state.eventBridge);
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
