import { applyDecorators } from '@nestjs/common';
import { ApiBadRequestResponse, ApiQuery, ApiServiceUnavailableResponse } from '@nestjs/swagger';
import { TIMEFRAMES } from '@orderflow/footprint';

/** OpenAPI descriptions of the shared query parameters (documentation only: validation is in validation/params.ts). */
const ERROR_SCHEMA = {
  type: 'object',
  properties: {
    statusCode: { type: 'integer', example: 400 },
    error: { type: 'string', example: 'Bad Request' },
    message: { type: 'string', example: 'ticks must be an integer from 1 to 10000, got 0' },
  },
};

export const ApiErrors = () =>
  applyDecorators(
    ApiBadRequestResponse({
      description: 'A parameter is missing, malformed, out of range or unknown (the message names it)',
      schema: ERROR_SCHEMA,
    }),
    ApiServiceUnavailableResponse({ description: 'ClickHouse cannot be read', schema: ERROR_SCHEMA }),
  );

export const ApiInstrument = () =>
  applyDecorators(
    ApiQuery({
      name: 'exchange',
      required: true,
      type: 'string',
      description:
        'Exchange id (binance, binance-futures, bybit, bybit-linear, okx, sim-...) or merged id (merged, merged-perp)',
      example: 'binance',
    }),
    ApiQuery({
      name: 'symbol',
      required: true,
      type: 'string',
      description: "The exchange's symbol (BTCUSDT, BTC-USDT-SWAP); BASE-QUOTE for a merged id",
      example: 'BTCUSDT',
    }),
  );

export const ApiRange = (withTimeframe = true) =>
  applyDecorators(
    ...(withTimeframe
      ? [
          ApiQuery({
            name: 'timeframe',
            required: true,
            enum: [...TIMEFRAMES],
            description: 'Candle timeframe (UTC-aligned)',
          }),
        ]
      : []),
    ApiQuery({
      name: 'from',
      required: true,
      type: 'string',
      description: 'Start: ms since the epoch or ISO-8601 (taken down to its bucket)',
      example: '2024-08-08T23:54:00Z',
    }),
    ApiQuery({
      name: 'to',
      required: false,
      type: 'string',
      description: 'End, exclusive (default now; taken up to a bucket end)',
      example: '2024-08-09T00:06:00Z',
    }),
  );

export const ApiGrouping = () =>
  applyDecorators(
    ApiQuery({
      name: 'ticks',
      required: false,
      type: 'integer',
      description: "Levels of N of the instrument's ticks, 1..10000 (default 1)",
      example: 10,
    }),
    ApiQuery({
      name: 'mode',
      required: false,
      enum: ['nearest', 'down'],
      description:
        'nearest: round to the nearest level, ties to even (default); down: a level covers [level, level + step)',
    }),
  );

export const ApiFormat = () =>
  ApiQuery({
    name: 'format',
    required: false,
    enum: ['json', 'csv'],
    description: 'json (default) or csv; both are streamed as ClickHouse returns rows',
  });
