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

const encodingOf = (p: Payload): string | undefined => (p.metadata?.encoding ? Buffer.from(p.metadata.encoding).toString('utf8') : undefined);

export class GzipPayloadCodec implements PayloadCodec {
  constructor(private readonly threshold = COMPRESS_FROM_BYTES) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      if ((p.data?.length ?? 0) < this.threshold || encodingOf(p) === GZIP_ENCODING) return p;
      const packed = gzipSync(PayloadProto.encode(p).finish(), { level: 6 });
      return { metadata: { encoding: Buffer.from(GZIP_ENCODING) }, data: packed };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      if (encodingOf(p) !== GZIP_ENCODING) return p;
      if (!p.data) throw new Error(`a ${GZIP_ENCODING} payload has no data`);
      const inner = PayloadProto.decode(gunzipSync(p.data));
      return { metadata: inner.metadata ?? {}, data: inner.data ?? new Uint8Array() } as Payload;
    });
  }
}

/** The data converter every secrets-dr client and worker uses. */
export const dataConverter: DataConverter = { payloadCodecs: [new GzipPayloadCodec()] };
