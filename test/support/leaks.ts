import { gunzipSync } from 'node:zlib';
import proto from '@temporalio/proto';
import { readablePayloadText } from '../../worker/payload-codec.js';
import type { Harness } from './integration.js';

/**
 * What a test file's runs left where a value could leak: the history of each workflow it names and of every
 * workflow of its plans, the lab's events and the worker log lines, as one text; and how many workflows it read.
 */
export async function leakScanText(
  h: Pick<Harness, 'client' | 'lab'>,
  o: { workflowIds: Iterable<string>; planNames: string[]; logs: string[] },
): Promise<{ text: string; workflows: number }> {
  const ids = new Set(o.workflowIds);
  for await (const wf of h.client.workflow.list()) if (o.planNames.some((p) => wf.workflowId.startsWith(`secrets-dr/${p}/`))) ids.add(wf.workflowId);
  const texts: string[] = [JSON.stringify(await h.lab!.events()), o.logs.join('')];
  for (const id of ids) texts.push(historyText(await h.client.workflow.getHandle(id).fetchHistory()));
  return { text: texts.join('\n'), workflows: ids.size };
}

/**
 * Text of a workflow history in which every payload is readable. A history's payload data are
 * bytes, which its JSON form carries as base64 — a scan for secret values over plain
 * JSON.stringify(history) could never find one. Tests that scan for values use this, and check
 * that it sees a string known to be in the payloads (a positive control).
 */
export function historyText(history: unknown): string {
  return decodePayloadData(JSON.stringify(history));
}

/** Replaces every `"data":"<base64>"` by the decoded text, unzipped first when compressed (worker/payload-codec.ts). */
export function decodePayloadData(json: string): string {
  return readablePayloadText(json);
}

/** The JSON value of a payload as a history stores it: unzipped first when the codec compressed it. */
export function payloadJson<T = unknown>(data: Uint8Array | null | undefined): T | undefined {
  if (!data) return undefined;
  const bytes = Buffer.from(data);
  if (bytes.length > 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    const inner = proto.temporal.api.common.v1.Payload.decode(gunzipSync(bytes));
    return JSON.parse(Buffer.from(inner.data ?? new Uint8Array()).toString('utf8')) as T;
  }
  return JSON.parse(bytes.toString('utf8')) as T;
}
