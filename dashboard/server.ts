/**
 * The dashboard's HTTP server: read-only (GET and HEAD only), on the loopback interface only, and
 * every request must carry the access token — as `?token=` (the printed URL: answered with a
 * cookie and a redirect that drops the token from the address bar), the cookie, or an
 * `Authorization: Bearer` header. Tokens are compared in constant time. Without it: 401.
 * `GET /` is the page, `GET /api/state` the JSON the page polls (state + rendered sections).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DashboardState } from './model.js';
import { LIVE_CSP, renderPage } from './page.js';
import { renderSections } from './sections.js';

export const DASHBOARD_HOST = '127.0.0.1';

export interface DashboardServerOptions {
  collect: () => Promise<DashboardState>;
  port?: number;
  /** Default: 32 random bytes, base64url. */
  token?: string;
  /** How often the page polls (ms). */
  intervalMs?: number;
  /** A state younger than this is served again instead of collecting anew (many viewers, one collection). */
  maxAgeMs?: number;
}

export interface DashboardServer {
  url: string;
  /** The URL with the token: what the operator opens. */
  openUrl: string;
  token: string;
  port: number;
  close(): Promise<void>;
}

export const newToken = () => randomBytes(32).toString('base64url');

/** Constant-time: both sides are hashed first, so neither length nor content leaks through timing. */
export function tokenMatches(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}

const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-resource-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
};

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

export async function startDashboardServer(o: DashboardServerOptions): Promise<DashboardServer> {
  const token = o.token ?? newToken();
  const intervalMs = o.intervalMs ?? 2_000;
  const maxAgeMs = o.maxAgeMs ?? Math.min(1_000, intervalMs);
  let cached: { at: number; state: Promise<DashboardState> } | undefined;
  const state = () => {
    if (!cached || Date.now() - cached.at > maxAgeMs) {
      const p = o.collect();
      cached = { at: Date.now(), state: p };
      p.catch(() => (cached = undefined));
    }
    return cached.state;
  };

  let cookieName = 'secrets_dr_dashboard';
  const send = (res: ServerResponse, status: number, type: string, body: string, extra: Record<string, string> = {}) => {
    res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': Buffer.byteLength(body), ...extra });
    res.end(res.req.method === 'HEAD' ? undefined : body);
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', `http://${DASHBOARD_HOST}`);
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain; charset=utf-8', 'read-only: GET only\n', { allow: 'GET, HEAD' });
    const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const fromQuery = url.searchParams.get('token') ?? undefined;
    const given = fromQuery ?? bearer ?? cookie(req, cookieName);
    if (!tokenMatches(given, token)) {
      return send(
        res,
        401,
        'text/plain; charset=utf-8',
        '401: this dashboard needs its access token: open the URL `secrets-dr dashboard` printed (…/?token=…), or send `Authorization: Bearer TOKEN`\n',
        {
          'www-authenticate': 'Bearer realm="secrets-dr dashboard"',
        },
      );
    }
    if (fromQuery !== undefined) {
      // Keep the token out of the address bar and history: a cookie for this origin from now on.
      url.searchParams.delete('token');
      return send(res, 303, 'text/plain; charset=utf-8', 'see other\n', {
        location: `${url.pathname}${url.search}`,
        'set-cookie': `${cookieName}=${token}; HttpOnly; SameSite=Strict; Path=/`,
      });
    }
    if (url.pathname === '/')
      return send(res, 200, 'text/html; charset=utf-8', renderPage(await state(), { live: true, intervalMs }), { 'content-security-policy': LIVE_CSP });
    if (url.pathname === '/api/state') {
      const s = await state();
      return send(res, 200, 'application/json; charset=utf-8', JSON.stringify({ state: s, sections: renderSections(s) }));
    }
    return send(res, 404, 'text/plain; charset=utf-8', `404: ${url.pathname} is not a page of the dashboard (/ and /api/state are)\n`);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', `500: ${(err as Error).message.split('\n')[0]}\n`);
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, DASHBOARD_HOST, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  // Cookies are not per port: two dashboards on one host must not overwrite each other's.
  cookieName = `secrets_dr_dashboard_${port}`;
  const url = `http://${DASHBOARD_HOST}:${port}/`;
  return {
    url,
    openUrl: `${url}?token=${token}`,
    token,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
