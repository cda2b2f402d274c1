/**
 * Large payloads are stored compressed (issue 18, target 2: Temporal's cost bounded at 10,000 secrets).
 *
 * A fleet's inventory pages, a chunk's per-secret outcomes and a chunk's names are JSON in which the same keys
 * repeat per secret: gzip stores them in a sixth to a fourteenth of the bytes. Only payloads of at least
 * COMPRESS_FROM_BYTES are compressed, so the small ones (inputs, counts, reports of a few secrets) stay readable
 * as plain JSON in the Temporal UI and `temporal workflow show`.
 *
 * The encoded payload is `binary/gzip` whose data is the gzip of the whole original payload (metadata and data,
 * protobuf-encoded), as Temporal's codec samples do. Decoding leaves every other payload as it is, so histories
 * written before this codec, or by a client without it, still decode. Every client and worker of secrets-dr
 * uses `dataConverter` (cli/temporal.ts, worker/worker.ts, the write lease's client, the tests' and benchmarks'
 * clients): a client without it would read a compressed result as an unknown encoding and fail loudly.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';

const PayloadProto = proto.temporal.api.common.v1.Payload;

export const GZIP_ENCODING = 'binary/gzip';
/** Below this many bytes of data a payload is left as it is. */
export const COMPRESS_FROM_BYTES = 4 * 1024;
/** A compressed payload that unzips to more than this is refused (a zip bomb in a history or a codec-server request). */
export const MAX_DECODED_BYTES = 64 * 1024 * 1024;
/**
 * `SECRETS_DR_COMPRESS_PAYLOADS=0`: decode compressed payloads but write none. For a rolling upgrade from a build
 * without the codec: deploy every Region's workers with 0 first (an older worker cannot read a compressed payload:
 * its activities would fail their attempts), then unset it.
 */
const COMPRESS_ENV = 'SECRETS_DR_COMPRESS_PAYLOADS';

export function compressionFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env[COMPRESS_ENV];
  if (v === undefined || v === '' || v === '1') return true;
  if (v === '0') return false;
  throw new Error(
    `${COMPRESS_ENV}=${JSON.stringify(v)}: expected 1 (compress payloads of 4 KiB or more, the default) or 0 (decode only, for a rolling upgrade)`,
  );
}

const encodingOf = (p: Payload): string | undefined => (p.metadata?.encoding ? Buffer.from(p.metadata.encoding).toString('utf8') : undefined);

export class GzipPayloadCodec implements PayloadCodec {
  /**
   * `threshold` Infinity: decode only; a function: read at the first encode (the environment is validated by
   * worker/config.ts when a command or the worker starts, after this module is loaded).
   */
  constructor(private threshold: number | (() => number) = COMPRESS_FROM_BYTES) {}

  private get from(): number {
    if (typeof this.threshold === 'function') this.threshold = this.threshold();
    return this.threshold;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      if ((p.data?.length ?? 0) < this.from || encodingOf(p) === GZIP_ENCODING) return p;
      const packed = gzipSync(PayloadProto.encode(p).finish(), { level: 6 });
      return { metadata: { encoding: Buffer.from(GZIP_ENCODING) }, data: packed };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      if (encodingOf(p) !== GZIP_ENCODING) return p;
      if (!p.data?.length) throw new Error(`a ${GZIP_ENCODING} payload has no data`);
      try {
        const inner = PayloadProto.decode(gunzipSync(p.data, { maxOutputLength: MAX_DECODED_BYTES }));
        return { metadata: inner.metadata ?? {}, data: inner.data ?? new Uint8Array() } as Payload;
      } catch (err) {
        throw new Error(`a ${GZIP_ENCODING} payload could not be decoded (at most ${MAX_DECODED_BYTES} bytes unzipped): ${(err as Error).message}`);
      }
    });
  }
}

/** The data converter every secrets-dr client and worker uses (decode always; encode unless COMPRESS_ENV=0). */
export const dataConverter: DataConverter = {
  payloadCodecs: [new GzipPayloadCodec(() => (compressionFromEnv() ? COMPRESS_FROM_BYTES : Number.POSITIVE_INFINITY))],
};

/**
 * A workflow history's JSON with every payload's data readable as text: base64 decoded, and unzipped first when
 * this codec compressed it (the original payload's JSON is then in the text as written). For leak scans: a scan
 * over plain JSON.stringify(history) sees only base64 and could never find a value.
 */
export function readablePayloadText(json: string): string {
  return json.replace(/"data":"([A-Za-z0-9+/]*={0,2})"/g, (_m, b64: string) => {
    const bytes = Buffer.from(b64, 'base64');
    const plain = bytes.length > 2 && bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes, { maxOutputLength: MAX_DECODED_BYTES }) : bytes;
    return `"data":${JSON.stringify(plain.toString('utf8'))}`;
  });
}
