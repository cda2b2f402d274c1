/**
 * Leak scan over everything a full demo run leaves. The demo runs as an operator would run it
 * (`node dist/cli/run.js demo --keep --reports DIR`, in a scratch directory): `--keep` leaves its
 * stack (lab + Temporal dev server) up after the story, which is all this test needs — no change to
 * the demo. The test then reads every secret value in every Region of the demo's lab through the
 * SDK (every version, backups and the HMAC key included; lineage and failback records, which hold only names,
 * version ids and HMACs, left out: the test may read values, workflows never do) and searches
 * for each of them in every workflow history on the demo's Temporal server (payloads decoded), every
 * event the lab's EventBridge accepted, the demo's stdout/stderr and its worker log (reports/demo-worker.log),
 * the stack's log files and the report files. Then it stops the demo (SIGTERM).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { GetSecretValueCommand, ListSecretsCommand, ListSecretVersionIdsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { LabClient } from '../../lab/client.js';
import { LAB_CREDENTIALS } from '../../lab/stack.js';
import { eventually, LAB_ONLY, onAws } from '../support/integration.js';
import { historyText } from '../support/leaks.js';
import { CLI_RUN, requireBuilt } from '../support/chaos.js';
import { MANIFEST_STAGE } from '../../domain/backup.js';
import { dataConverter } from '../../worker/payload-codec.js';

const DEMO_REGIONS = ['ap-northeast-1', 'ap-northeast-3', 'us-east-1'];

function filesUnder(dir: string): string[] {
  try {
    return readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? filesUnder(join(dir, f)) : [join(dir, f)]));
  } catch {
    return [];
  }
}

/** What to search for: the value itself, and for JSON values every string field (a password inside); 12+ characters, so a hit means a leak. */
function needles(value: string): string[] {
  const out = value.length >= 12 ? [value] : [];
  try {
    const doc = JSON.parse(value) as unknown;
    if (doc && typeof doc === 'object') for (const v of Object.values(doc)) if (typeof v === 'string' && v.length >= 12) out.push(v);
  } catch {
    /* not JSON */
  }
  return out;
}

let demo: ChildProcess | undefined;
const cwd = mkdtempSync(join(tmpdir(), 'secrets-dr-leak-'));
afterAll(async () => {
  if (demo && demo.exitCode === null) {
    const gone = new Promise((r) => demo!.once('exit', r));
    demo.kill('SIGTERM');
    await Promise.race([gone, new Promise((r) => setTimeout(r, 15_000))]);
    if (demo.exitCode === null) demo.kill('SIGKILL');
  }
  rmSync(cwd, { recursive: true, force: true });
});

describe.skipIf(onAws)(`leak scan over a full demo run (${LAB_ONLY})`, () => {
  it('no secret value appears in any workflow history, event, log, CLI output or report the demo leaves', async () => {
    requireBuilt();
    const reports = join(cwd, 'reports');
    let output = '';
    demo = spawn(process.execPath, [CLI_RUN, 'demo', '--keep', '--reports', reports], {
      cwd,
      env: { ...process.env, SECRETS_DR_HOME: join(cwd, 'home'), AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    demo.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    demo.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    await eventually(
      'the demo to finish its story (--keep: the stack stays up)',
      async () => {
        if (demo!.exitCode !== null) throw new Error(`the demo exited with ${demo!.exitCode}:\n${output}`);
        return output.includes('the stack stays up') ? true : undefined;
      },
      300_000,
      500,
    );
    const env = Object.fromEntries([...output.matchAll(/export (\w+)=('?)([^'\n]*)\2/g)].map((m) => [m[1]!, m[3]!]));
    const labUrl = env.SECRETS_DR_LAB_URL ?? env.AWS_ENDPOINT_URL_SECRETS_MANAGER;
    expect(labUrl, output).toBeTruthy();
    expect(env.TEMPORAL_ADDRESS, output).toBeTruthy();

    // Every value in the demo's lab, every version (the test reads them; nothing else may).
    const values = new Map<string, string>(); // needle → where the value lives (never printed itself)
    for (const region of DEMO_REGIONS) {
      const sm = new SecretsManagerClient({
        region,
        endpoint: labUrl,
        credentials: { accessKeyId: LAB_CREDENTIALS.AWS_ACCESS_KEY_ID, secretAccessKey: LAB_CREDENTIALS.AWS_SECRET_ACCESS_KEY },
      });
      let token: string | undefined;
      do {
        const page = await sm.send(new ListSecretsCommand({ NextToken: token, IncludePlannedDeletion: true }));
        for (const s of page.SecretList ?? []) {
          // Lineage records are the orchestrator's own metadata (names, version ids, HMACs: no value by design).
          if (/^secrets-dr\/[^/]+\/lineage\//.test(s.Name ?? '')) continue;
          // So are failback records (domain/failback.ts FailbackRecord: the names a failback verified).
          if (/^secrets-dr\/[^/]+\/failback\//.test(s.Name ?? '')) continue;
          const versions = await sm.send(new ListSecretVersionIdsCommand({ SecretId: s.ARN, IncludeDeprecated: true }));
          for (const v of versions.Versions ?? []) {
            // A backup's manifest is the orchestrator's own metadata too (names, ARNs, policy, version ids → labels: no value by design).
            if (v.VersionStages?.includes(MANIFEST_STAGE)) continue;
            const got = await sm.send(new GetSecretValueCommand({ SecretId: s.ARN, VersionId: v.VersionId })).catch(() => undefined);
            if (got?.SecretString) for (const n of needles(got.SecretString)) values.set(n, `${region}:${s.Name}@${v.VersionId}`);
          }
        }
        token = page.NextToken;
      } while (token);
      sm.destroy();
    }
    expect(values.size, 'the scan found the demo fleet').toBeGreaterThan(7);

    // Everything the demo leaves.
    const connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS! });
    const client = new Client({ connection, dataConverter });
    const places: Array<[string, string]> = [];
    let histories = 0;
    for await (const wf of client.workflow.list()) {
      places.push([`history ${wf.workflowId}`, historyText(await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory())]);
      histories++;
    }
    await connection.close();
    places.push(['lab events', JSON.stringify(await new LabClient(labUrl!).events())]);
    places.push(['demo output (the CLI; the worker logs to reports/demo-worker.log, scanned below)', output]);
    for (const f of [...filesUnder(reports), ...filesUnder(join(cwd, '.secrets-dr-demo')), ...filesUnder(join(cwd, 'home'))])
      places.push([f, readFileSync(f, 'utf8')]);

    // The scan can see: secret names and workflow payloads are there in clear.
    expect(histories).toBeGreaterThan(5);
    expect(places.map(([, t]) => t).join('\n')).toContain('prod/payments/');
    const found = places.flatMap(([where, text]) => [...values].filter(([v]) => text.includes(v)).map(([, secret]) => `${secret} in ${where}`));
    expect(found, 'a secret value appears in these places').toEqual([]);
    console.log(
      `[chaos] leak scan: ${values.size} values × ${histories} histories, ${places.length - histories} other places (events, output, ${filesUnder(reports).length} report files, stack logs): none found`,
    );
  }, 420_000);
});
