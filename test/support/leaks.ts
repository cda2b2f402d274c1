/**
 * Text of a workflow history in which every payload is readable. A history's payload data are
 * bytes, which its JSON form carries as base64 — a scan for secret values over plain
 * JSON.stringify(history) could never find one. Tests that scan for values use this, and check
 * that it sees a string known to be in the payloads (a positive control).
 */
export function historyText(history: unknown): string {
  return decodePayloadData(JSON.stringify(history));
}

/** Replaces every `"data":"<base64>"` by the decoded text (JSON-escaped, so the result stays JSON). */
export function decodePayloadData(json: string): string {
  return json.replace(/"data":"([A-Za-z0-9+/]*={0,2})"/g, (_m, b64: string) => `"data":${JSON.stringify(Buffer.from(b64, 'base64').toString('utf8'))}`);
}
