import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { HistoryError } from '@orderflow/clickhouse';
import type { ApiErrorBody } from '@orderflow/contracts';
import { classifyError, errorDetail } from '@orderflow/observability';
import { FootprintError } from '@orderflow/footprint';
import { RequestError, httpStatusOf } from '../request.error.js';
import { redactUrl } from './access.log.js';

const REASON: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Longest message an error body carries: NestJS's own (a 404's "Cannot GET <path>") quotes the request unbounded. */
export const MAX_MESSAGE = 1000;

function bounded(message: string): string {
  return message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE)}...` : message;
}

/** A ClickHouse client failure (connection refused, timeout, server error) rather than a bad request. */
function isStoreFailure(e: unknown): boolean {
  if (e instanceof HistoryError) return true;
  const err = e as { code?: unknown; name?: unknown; message?: unknown };
  if (
    typeof err?.code === 'string' &&
    /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EHOSTUNREACH)$/.test(err.code)
  )
    return true;
  return typeof err?.message === 'string' && /ClickHouse|Timeout error|socket hang up|ECONNREFUSED/i.test(err.message);
}

/**
 * Every error as `{ statusCode, error, message }` (@orderflow/contracts ApiErrorBody): refused requests 400 (401, 429)
 * with the reason,
 * engine refusals (a profile too wide, an overflow) 400, ClickHouse unreachable 503
 * (`code: "storage-unavailable"`, a classified reason such as "timeout"), anything else 500
 * (`code: "internal-error"`); 500 and 503 carry a correlationId that the log line with the detail
 * has too, and never the error's text. The message is at most MAX_MESSAGE characters. A streamed response that
 * fails after its first byte is cut short instead.
 */
/** The failed request as the access log names it (secrets in the query redacted). */
function requestFields(host: ArgumentsHost): { method: string; path: string } {
  const req = host.switchToHttp().getRequest<IncomingMessage & { originalUrl?: string }>();
  return { method: req?.method ?? '', path: redactUrl(req?.originalUrl ?? req?.url ?? '') };
}

/** An unexpected error's stack for the log, URL credentials removed. */
function redactStack(e: unknown): string {
  return errorDetail((e as Error)?.stack ?? e);
}

@Catch()
export class GatewayErrorsFilter implements ExceptionFilter {
  private readonly logger = new Logger('http');

  catch(e: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<ServerResponse>();
    let status: number;
    let body: Record<string, unknown>;
    if (e instanceof HttpException) {
      status = e.getStatus();
      const r = e.getResponse();
      body =
        typeof r === 'object' && r !== null
          ? { ...(r as Record<string, unknown>) }
          : ({ statusCode: status, error: REASON[status] ?? 'Error', message: String(r) } satisfies ApiErrorBody);
      if (typeof body['message'] === 'string') body['message'] = bounded(body['message']);
    } else {
      if (e instanceof RequestError) status = httpStatusOf(e.code);
      else if (e instanceof FootprintError && e.code !== 'INVALID_TRADE') status = 400;
      else if (isStoreFailure(e)) status = 503;
      else status = 500;
      if (status === 500 || status === 503) {
        // the detail (a ClickHouse exception quotes queries, tables, its version; a URL may hold
        // credentials) goes to the log only; the body has a stable code, a generic reason and the
        // correlation id that finds the log line
        const correlationId = randomUUID();
        if (status === 500) {
          this.logger.error(redactStack(e), { ...requestFields(host), correlationId });
          body = {
            statusCode: status,
            error: REASON[status]!,
            code: 'internal-error',
            message: 'internal error',
            correlationId,
          } satisfies ApiErrorBody;
        } else {
          const reason = classifyError(e);
          this.logger.warn(`history store unavailable (${reason}): ${errorDetail(e).slice(0, 2000)}`, {
            ...requestFields(host),
            correlationId,
            reason,
          });
          body = {
            statusCode: status,
            error: REASON[status]!,
            code: 'storage-unavailable',
            message: `the history store did not answer (${reason})`,
            reason,
            correlationId,
          } satisfies ApiErrorBody;
        }
      } else
        body = {
          statusCode: status,
          error: REASON[status] ?? 'Error',
          message: bounded((e as Error).message),
        } satisfies ApiErrorBody;
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.statusCode = status;
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    if (status === 401) res.setHeader('WWW-Authenticate', 'Bearer');
    res.end(JSON.stringify(body));
  }
}
