import 'reflect-metadata';
import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { join } from 'node:path';
import { parse as parseQuery } from 'node:querystring';
import { type INestApplication, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { ApiErrorBody } from '@orderflow/contracts';
import { type ServiceLogger, serviceLoggerFromEnv } from '@orderflow/observability';
import type { GatewayConfig } from './config/gateway.config.js';
import { GATEWAY_OPS, GATEWAY_RUNTIME } from './gateway.tokens.js';
import { GatewayModule } from './gateway.module.js';
import type { GatewayRuntime } from './gateway.runtime.js';
import { accessLogger } from './http/access.log.js';
import { GatewayErrorsFilter } from './http/errors.filter.js';
import { FairUse } from './http/fair-use.js';
import type { OpsServer } from './http/ops.server.js';
import { securityHeaders } from './http/security.headers.js';
import { GatewayIoAdapter, tokenMatches } from './live/live.gateway.js';

type Next = (err?: unknown) => void;
type Req = IncomingMessage & { route?: { path?: string }; baseUrl?: string; originalUrl?: string; ip?: string };

const OPEN_API_PATHS = new Set(['/api/openapi.json', '/api/docs', '/api/docs/']);
const NOT_STATIC = /^\/(api|health|metrics|status|socket\.io)(\/|$)/;

const DESCRIPTION = `History and analysis of footprints (volume by price), candles, profiles, VWAP, CVD, TPO and imbalances,
for single instruments and merged cross-exchange views (exchange \`merged\` / \`merged-perp\`, symbol \`BASE-QUOTE\`).
Prices and quantities in JSON are integer units of the \`scales\` in each response (price = units / 10^priceScale); CSV prints exact decimals.

Live data: Socket.IO at path \`/socket.io\` (WebSocket transport). Emit \`subscribe\` {exchange, symbol, timeframe, ticks, candles, mode?}
(optional acknowledgement callback); receive \`snapshot\` {subscriptionId, seq: 0, epoch, scales, step, candles, session, live, history}, then
\`update\` {subscriptionId, seq, epoch, candle, cells, replace, session, lastTradeUs, sourceSentAtMs}; \`unsubscribe\` {subscriptionId}.
A refused request gets \`error\` {code, reason, request} and the connection stays usable. When the gateway has a token, connect with
\`auth: { token }\` and call this API with \`Authorization: Bearer <token>\`.`;

/** The gateway's log (LOG_FORMAT of `env`). */
export function gatewayLogger(env: Record<string, string | undefined> = process.env): ServiceLogger {
  return serviceLoggerFromEnv('gateway', env, process).logger;
}

/**
 * The whole gateway as main.ts runs it, listening: HTTP API (with OpenAPI at /api/docs and
 * /api/openapi.json), health probes, the Socket.IO server and, when configured, the dashboard's
 * build at / on the public port (`url`); /metrics, /status and the probes on the metrics port
 * (`metricsUrl`). Tests run it in-process. `logger`: false for none; by default the LOG_FORMAT of
 * the environment.
 */
export async function startGatewayApp(
  config: GatewayConfig,
  o: { logger?: false | ServiceLogger } = {},
): Promise<{ app: INestApplication; runtime: GatewayRuntime; url: string; metricsUrl: string }> {
  const app = await NestFactory.create<NestExpressApplication>(GatewayModule.forConfig(config), {
    bufferLogs: false,
    logger: o.logger ?? gatewayLogger(),
  });
  app.enableShutdownHooks();
  const runtime = app.get<GatewayRuntime>(GATEWAY_RUNTIME);
  app.useWebSocketAdapter(new GatewayIoAdapter(app, config, runtime.metrics));
  app.useGlobalFilters(new GatewayErrorsFilter());
  app.disable('x-powered-by');
  // req.ip: the peer's address, or the client named by X-Forwarded-For of trusted proxies only
  app.set('trust proxy', config.trustProxy);
  // security headers first, so that every response has them: the dashboard, the API, 404s, errors
  app.use(securityHeaders(config.allowedOrigins));
  // querystring.parse as Express's 'simple' parser, but with no cap on pairs (its default maxKeys of
  // 1000 dropped every pair after the 1000th, so a parameter there was neither read nor refused);
  // Node's 16 KB limit on the request line bounds the count
  app.set('query parser', (q: string) => parseQuery(q, '&', '=', { maxKeys: 0 }));

  // the access log: one line per request (not /health, /metrics), no secrets
  app.use(accessLogger(new Logger('http')));

  // request latency by matched route (unmatched paths share one label)
  app.use((req: Req, res: ServerResponse, next: Next) => {
    const started = performance.now();
    res.once('close', () => {
      const route = req.route?.path
        ? `${req.baseUrl ?? ''}${req.route.path}`
        : NOT_STATIC.test(req.url ?? '')
          ? 'unmatched'
          : 'static';
      runtime.metrics.httpLatency.observe(
        { route, status: String(res.statusCode) },
        (performance.now() - started) / 1000,
      );
    });
    next();
  });

  // fair use of the API (before the token check: guessing the token is limited too)
  const fairUse = new FairUse(config.http, Date.now());
  runtime.metrics.trackHttpFairUse(() => fairUse.inFlight);
  app.use('/api', (req: Req, res: ServerResponse, next: Next) => {
    const path = (req.originalUrl ?? req.url ?? '').split('?')[0]!;
    if (OPEN_API_PATHS.has(path) || path.startsWith('/api/docs/')) return next();
    const client = req.ip ?? req.socket.remoteAddress ?? 'unknown';
    const a = fairUse.admit(client, Date.now());
    if (!a.ok) {
      runtime.metrics.httpRefused.labels(a.refusal.code).inc();
      res.statusCode = 429;
      res.setHeader('Retry-After', String(a.refusal.retryAfterSeconds));
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      res.end(
        JSON.stringify({
          statusCode: 429,
          error: 'Too Many Requests',
          code: a.refusal.code,
          message: a.refusal.message,
          retryAfterSeconds: a.refusal.retryAfterSeconds,
        } satisfies ApiErrorBody),
      );
      return;
    }
    res.once('close', a.release);
    next();
  });

  if (config.authToken !== null) {
    const token = config.authToken;
    app.use('/api', (req: Req, res: ServerResponse, next: Next) => {
      const path = (req.originalUrl ?? req.url ?? '').split('?')[0]!;
      if (OPEN_API_PATHS.has(path) || path.startsWith('/api/docs/')) return next();
      const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
      if (m && tokenMatches(m[1], token)) return next();
      res.statusCode = 401;
      res.setHeader('WWW-Authenticate', 'Bearer');
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      res.end(
        JSON.stringify({
          statusCode: 401,
          error: 'Unauthorized',
          message: 'this gateway needs Authorization: Bearer <GATEWAY_AUTH_TOKEN>',
        } satisfies ApiErrorBody),
      );
    });
  }

  const doc = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Order-flow gateway')
      .setDescription(DESCRIPTION)
      .setVersion('1')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('api/docs', app, doc, { jsonDocumentUrl: 'api/openapi.json' });

  if (config.staticDir !== null) {
    const dir = config.staticDir;
    app.useStaticAssets(dir, { index: 'index.html' });
    const index = join(dir, 'index.html');
    // a single-page app: other GET paths that are not the API get its index.html
    app.use((req: Req & { method?: string }, res: ServerResponse & { sendFile?: (p: string) => void }, next: Next) => {
      if (
        req.method !== 'GET' ||
        NOT_STATIC.test(req.url ?? '') ||
        !existsSync(index) ||
        !(req.headers.accept ?? '').includes('text/html')
      )
        return next();
      res.sendFile!(index);
    });
  }

  app.getHttpServer().on('clientError', answerClientError);
  await app.listen(config.port, config.host);
  const address = app.getHttpServer().address() as { port: number };
  let metricsUrl: string;
  try {
    metricsUrl = await app.get<OpsServer>(GATEWAY_OPS).listen(config.metricsHost, config.metricsPort);
  } catch (e) {
    await app.close();
    throw new Error(
      `cannot serve the metrics on ${config.metricsHost}:${config.metricsPort} (${(e as Error).message}): set GATEWAY_METRICS_PORT`,
      { cause: e },
    );
  }
  return { app, runtime, url: `http://${config.host}:${address.port}`, metricsUrl };
}

/**
 * A request Node's HTTP parser refuses before Express sees it (a request line or headers over its
 * 16 KB limit, a malformed request) gets the API's JSON error body, like every other refusal;
 * without a listener Node answers 431 / 400 with no body.
 */
export function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, error, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', 'the request line and headers exceed 16 KB: use a shorter query']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'the request did not arrive in time']
        : [400, 'Bad Request', `malformed HTTP request${err.code ? ` (${err.code})` : ''}`];
  const body = JSON.stringify({ statusCode: status, error, message } satisfies ApiErrorBody);
  socket.end(
    `HTTP/1.1 ${status} ${error}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
