/**
 * The demo's proof of invariant 1: every workflow history on the demo's Temporal server, every event
 * the lab's EventBridge accepted, the demo's own output and its report files are searched for the
 * secret values the demo seeded. The statement printed at the end is what this scan found.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { LabClient } from '../../lab/client.js';
import { readablePayloadText } from '../../worker/payload-codec.js';

export interface LeakScan {
  values: number;
  histories: number;
  events: number;
  outputLines: number;
  reportFiles: number;
  /** Where a value was found (never the value itself). */
  found: string[];
}

function filesUnder(dir: string): string[] {
  try {
    return readdirSync(dir).flatMap((f) => {
      const p = join(dir, f);
      return statSync(p).isDirectory() ? filesUnder(p) : [p];
    });
  } catch {
    return [];
  }
}

/**
 * JSON of a history with every payload readable: payload data are bytes, carried as base64 in the history's JSON
 * form (and gzip-compressed from 4 KiB on), so a plain JSON.stringify would hide every value from the scan.
 */
function readable(history: unknown): string {
  return readablePayloadText(JSON.stringify(history));
}

export async function scanForLeaks(
  client: Client,
  lab: LabClient,
  planName: string,
  values: readonly string[],
  output: readonly string[],
  reportDirs: readonly string[],
): Promise<LeakScan> {
  // Short values would match by chance; the demo's are ≥ 24 random characters.
  const needles = values.filter((v) => v.length >= 16);
  const found: string[] = [];
  const check = (where: string, text: string) => {
    if (needles.some((v) => text.includes(v) || text.includes(JSON.stringify(v).slice(1, -1)))) found.push(where);
  };
  let histories = 0;
  let sawPayloads = false;
  for await (const wf of client.workflow.list()) {
    const history = await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
    const text = readable(history);
    // Every demo workflow carries the plan name in its input: seeing it proves payloads are read.
    sawPayloads ||= text.includes(planName);
    check(`workflow history ${wf.workflowId}`, text);
    histories++;
  }
  const events = await lab.events();
  check('lab EventBridge events', JSON.stringify(events));
  check('demo output', output.join('\n'));
  const files = reportDirs.flatMap(filesUnder);
  for (const f of files) check(`report ${f}`, readFileSync(f, 'utf8'));
  if (histories > 0 && !sawPayloads) found.push('(the scan could not read workflow payloads: inconclusive)');
  return { values: needles.length, histories, events: events.length, outputLines: output.length, reportFiles: files.length, found };
}
