/**
 * `secrets-dr codec-server [--port N] [--origin URL ...]`: decodes the payloads secrets-dr stores compressed, for
 * the Temporal Web UI (Settings → Codec Server endpoint) and `temporal workflow show --codec-endpoint URL`.
 */
import { z } from 'zod';
import { ErrorType, ExitCode, OperatorError } from '../../domain/errors.js';
import { defineCommand } from '../command.js';
import { printJson } from '../output.js';

const DEFAULT_CODEC_PORT = 8789;

export const codecServerCommand = defineCommand({
  words: ['codec-server'],
  summary: "decodes secrets-dr's compressed payloads for the Temporal Web UI and CLI (127.0.0.1 only)",
  examples: ['secrets-dr codec-server', 'secrets-dr codec-server --port 9001 --origin https://temporal.example.internal'],
  options: {
    port: { type: 'string', default: String(DEFAULT_CODEC_PORT), description: 'port on 127.0.0.1 (0: any free port)', placeholder: 'N' },
    origin: {
      type: 'string',
      multiple: true,
      default: ['http://localhost:8233', 'http://127.0.0.1:8233'],
      description: 'a Web UI origin the browser may call from (default: the local dev server UI)',
      placeholder: 'URL',
    },
  },
  schema: z.object({
    json: z.boolean(),
    port: z
      .string()
      .regex(/^\d{1,5}$/, { error: 'expected a port number such as 8789 (0: any free port)' })
      .transform(Number)
      .pipe(z.number().max(65_535, { error: 'expected a port number up to 65535' })),
    origin: z.array(
      z.string().regex(/^https?:\/\/[^/\s]+$/, { error: 'expected an origin such as https://temporal.example.internal (scheme and host, no path)' }),
    ),
    positionals: z.array(z.string()).max(0, { error: 'this command takes no arguments' }),
  }),
  async run(opts, io) {
    const { startCodecServer } = await import('../codec-server.js');
    let server;
    try {
      server = await startCodecServer({ port: opts.port, origins: opts.origin });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE')
        throw new OperatorError(ErrorType.UsageError, `--port ${opts.port}: the port is in use on 127.0.0.1; pass another with --port N (0: any free port)`);
      throw err;
    }
    if (io.json) printJson(io, { url: server.url, port: server.port, origins: opts.origin });
    else {
      io.out(`codec server: ${server.url} (POST /decode, /encode) for the Web UI at ${opts.origin.join(', ')}`);
      io.out(`in the Web UI: Settings → Codec Server → ${server.url}; in the CLI: temporal workflow show --codec-endpoint ${server.url}. Ctrl-C stops it.`);
    }
    await new Promise<void>((done) => {
      process.once('SIGINT', () => done());
      process.once('SIGTERM', () => done());
    });
    await server.close();
    return ExitCode.Ok;
  },
});
