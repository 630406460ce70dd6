import type { IncomingMessage, ServerResponse } from 'node:http';
import { Controller, Get, Inject, Query, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import { TIMEFRAME_MS, bucketStartOfMs, formatFixed, formatFixedTrimmed, formatRatio } from '@orderflow/footprint';
import { candleJson } from '@orderflow/candle-views';
import type {
  CandlesResponse,
  CvdResponse,
  FootprintResponse,
  ImbalancesResponse,
  InstrumentsResponse,
  NakedPocsResponse,
  ProfileResponse,
  TpoResponse,
  ViewHead,
  VwapResponse,
  WireCandleRow,
} from '@orderflow/contracts';
import { GATEWAY_RUNTIME } from '../gateway.tokens.js';
import type { GatewayRuntime } from '../gateway.runtime.js';
import type { InstrumentView } from '../instruments/instrument.view.js';
import { badRequest } from '../request.error.js';
import {
  MAX_TIME_MS,
  checkQueryKeys,
  parseTime,
  queryBool,
  queryDecimal,
  queryEnum,
  queryInt,
  queryTime,
  queryValue,
} from '../validation/params.js';
import { cvd, imbalanceList, nakedPocList, rangeProfile, tpo, vwapPoints } from './analysis.js';
import { formatOf, groupingOf, instrumentOf, rangeOf } from './history.query.js';
import { ApiErrors, ApiFormat, ApiGrouping, ApiInstrument, ApiRange } from './openapi.decorators.js';
import { ChunkWriter, FOOTPRINT_CSV_HEADER, csvField, footprintCsvRows } from './stream.writer.js';

type Q = Record<string, unknown>;
const DAY = TIMEFRAME_MS['1d'];

/** Aborts the ClickHouse read when the HTTP client goes away. */
function abortOnClose(req: IncomingMessage, res: ServerResponse): AbortSignal {
  const ac = new AbortController();
  const abort = () => {
    if (!res.writableFinished) ac.abort();
  };
  req.once('close', abort);
  res.once('close', abort);
  return ac.signal;
}

function stepOf(view: InstrumentView, ticks: number): number {
  const step = ticks * view.scales.tick;
  if (!Number.isSafeInteger(step)) throw badRequest(`ticks ${ticks} x tick ${view.scales.tick} is too large`);
  return step;
}

function describe(view: InstrumentView): ViewHead {
  return {
    exchange: view.exchange,
    symbol: view.symbol,
    scales: view.scales,
    ...(view.merged ? { members: view.members.map((m) => ({ exchange: m.exchange, symbol: m.symbol })) } : {}),
  };
}

@ApiTags('history')
@Controller('api')
export class HistoryController {
  constructor(@Inject(GATEWAY_RUNTIME) private readonly runtime: GatewayRuntime) {}

  private get limits() {
    return this.runtime.config.limits;
  }

  private view(exchange: string, symbol: string): Promise<InstrumentView> {
    return this.runtime.catalog.resolve(exchange, symbol);
  }

  @Get('instruments')
  @ApiOperation({
    summary: 'Instruments (from the instruments table) and merged cross-exchange views with at least two members',
  })
  @ApiOkResponse({
    description: '{ instruments: [...], merged: [...] }; prices of a merged view are in its common scales',
  })
  async instruments(@Query() q: Q): Promise<InstrumentsResponse> {
    checkQueryKeys(q, []);
    await this.runtime.catalog.refreshIfOlder(1000).catch(() => undefined);
    const tickSize = (tick: number, scale: number) => formatFixedTrimmed(tick, scale);
    return {
      instruments: this.runtime.catalog.instruments().map((i) => ({
        exchange: i.exchange,
        symbol: i.symbol,
        priceScale: i.priceScale,
        quantityScale: i.quantityScale,
        tick: i.tick,
        tickSize: tickSize(i.tick, i.priceScale),
      })),
      merged: this.runtime.catalog.mergedViews().map((v) => ({
        exchange: v.exchange,
        symbol: v.symbol,
        priceScale: v.scales.priceScale,
        quantityScale: v.scales.quantityScale,
        tick: v.scales.tick,
        tickSize: tickSize(v.scales.tick, v.scales.priceScale),
        members: v.members.map((m) => ({
          exchange: m.exchange,
          symbol: m.symbol,
          priceFactor: m.priceFactor,
          quantityFactor: m.quantityFactor,
        })),
      })),
    };
  }

  @Get('footprint')
  @ApiOperation({
    summary: 'Footprint candles with cells, grouped server-side to any number of ticks; streamed (JSON or CSV)',
  })
  @ApiInstrument()
  @ApiRange()
  @ApiGrouping()
  @ApiFormat()
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({
    description:
      'JSON: { exchange, symbol, timeframe, ticks, mode, step, scales, from, to, candles: [{ openTime, open, high, low, close, buyVolume, sellVolume, buyTrades, sellTrades, delta, maxDelta, minDelta, poc, vah, val, cells: [[price, buyVolume, sellVolume, buyTrades, sellTrades]] }] } (integer units of scales); CSV: one row per cell, exact decimals',
  })
  @ApiErrors()
  async footprint(@Query() q: Q, @Req() req: IncomingMessage, @Res() res: ServerResponse): Promise<void> {
    checkQueryKeys(q, ['exchange', 'symbol', 'timeframe', 'from', 'to', 'ticks', 'mode', 'format']);
    const r = rangeOf(q, this.limits.maxExportCandles);
    const g = groupingOf(q);
    const format = formatOf(q);
    const view = await this.view(r.exchange, r.symbol);
    const step = stepOf(view, g.ticks);
    const signal = abortOnClose(req, res);
    const candles = this.runtime.history.footprint(view, r.timeframe, r.from, r.to, step, g.mode, signal);
    // the first candle (or the end) before any byte goes out: a failing query still gets a clean error status
    const first = await candles.next();
    const out = new ChunkWriter(res);
    res.statusCode = 200;
    if (format === 'csv') {
      res.setHeader('Content-Type', 'text/csv; charset=utf-8');
      res.setHeader(
        'Content-Disposition',
        `attachment; filename="${view.exchange}_${view.symbol}_${r.timeframe}_footprint.csv"`,
      );
      await out.write(FOOTPRINT_CSV_HEADER);
      if (!first.done)
        await out.write(footprintCsvRows(view.exchange, view.symbol, r.timeframe, view.scales, first.value));
      for await (const c of candles)
        await out.write(footprintCsvRows(view.exchange, view.symbol, r.timeframe, view.scales, c));
    } else {
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      const head: Omit<FootprintResponse, 'candles'> = {
        ...describe(view),
        timeframe: r.timeframe,
        ticks: g.ticks,
        mode: g.mode,
        step,
        from: r.from,
        to: r.to,
      };
      await out.write(`${JSON.stringify(head).slice(0, -1)},"candles":[`);
      let n = 0;
      if (!first.done) {
        await out.write(candleJson(first.value));
        n++;
      }
      for await (const c of candles) {
        if (n++ > 0) await out.write(',');
        await out.write(candleJson(c));
      }
      await out.write(']}');
    }
    await out.end();
  }

  @Get('candles')
  @ApiOperation({
    summary:
      'Candle summaries (OHLC, volumes, trades, delta and its extremes, VWAP and completeness where the schema has them); JSON or CSV',
  })
  @ApiInstrument()
  @ApiRange()
  @ApiFormat()
  @ApiProduces('application/json', 'text/csv')
  @ApiErrors()
  async candles(@Query() q: Q, @Req() req: IncomingMessage, @Res() res: ServerResponse): Promise<void> {
    checkQueryKeys(q, ['exchange', 'symbol', 'timeframe', 'from', 'to', 'format']);
    const r = rangeOf(q, this.limits.maxExportCandles);
    const format = formatOf(q);
    const view = await this.view(r.exchange, r.symbol);
    const signal = abortOnClose(req, res);
    const cols = await this.runtime.history.candleColumns();
    const rows = this.runtime.history.streamSummaries(view, r.timeframe, r.from, r.to, signal, cols);
    const first = await rows.next();
    const all = (async function* () {
      if (!first.done) yield first.value;
      yield* rows;
    })();
    const { priceScale, quantityScale } = view.scales;
    const vwapOf = (notional: bigint | null, volume: number) =>
      notional === null || volume === 0
        ? null
        : formatRatio(notional, BigInt(volume) * 10n ** BigInt(priceScale), priceScale + 4);
    const out = new ChunkWriter(res);
    res.statusCode = 200;
    if (format === 'csv') {
      res.setHeader('Content-Type', 'text/csv; charset=utf-8');
      res.setHeader(
        'Content-Disposition',
        `attachment; filename="${view.exchange}_${view.symbol}_${r.timeframe}_candles.csv"`,
      );
      await out.write(
        'exchange,symbol,timeframe,open_time,open,high,low,close,buy_volume,sell_volume,buy_trades,sell_trades,trades,delta,volume,max_delta,min_delta,vwap,complete\n',
      );
      for await (const c of all) {
        const f = (x: number) => formatFixed(x, priceScale);
        const v = (x: number | null) => (x === null ? '' : formatFixed(x, quantityScale));
        await out.write(
          `${csvField(view.exchange)},${csvField(view.symbol)},${r.timeframe},${new Date(c.openTime).toISOString()},${f(c.open)},${f(c.high)},${f(c.low)},${f(c.close)},${v(c.buyVolume)},${v(c.sellVolume)},${c.buyTrades},${c.sellTrades},${c.buyTrades + c.sellTrades},${v(c.buyVolume - c.sellVolume)},${v(c.buyVolume + c.sellVolume)},${v(c.maxDelta)},${v(c.minDelta)},${vwapOf(c.notional, c.buyVolume + c.sellVolume) ?? ''},${c.complete === null ? '' : c.complete}\n`,
        );
      }
    } else {
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      const head: Omit<CandlesResponse, 'candles'> = {
        ...describe(view),
        timeframe: r.timeframe,
        from: r.from,
        to: r.to,
      };
      await out.write(`${JSON.stringify(head).slice(0, -1)},"candles":[`);
      let n = 0;
      for await (const c of all) {
        const { notional, firstTimeUs: _f, lastTimeUs: _l, ...rest } = c;
        const row: WireCandleRow = {
          ...rest,
          trades: c.buyTrades + c.sellTrades,
          delta: c.buyVolume - c.sellVolume,
          volume: c.buyVolume + c.sellVolume,
          vwap: vwapOf(notional, c.buyVolume + c.sellVolume),
        };
        await out.write((n++ > 0 ? ',' : '') + JSON.stringify(row));
      }
      await out.write(']}');
    }
    await out.end();
  }

  @Get('profile')
  @ApiOperation({
    summary:
      'Volume profile of a session (UTC day), a range, or a composite of days: POC, value area, HVN/LVN (libs/footprint, on native-tick cells, then grouped)',
  })
  @ApiInstrument()
  @ApiQuery({
    name: 'kind',
    required: false,
    enum: ['session', 'range', 'composite'],
    description:
      'session (default): the UTC day of `date`; range: from..to (whole minutes); composite: `days` UTC days ending with `date`',
  })
  @ApiQuery({
    name: 'date',
    required: false,
    type: 'string',
    description: 'A day (YYYY-MM-DD) for session and composite (default: the latest day with data)',
  })
  @ApiQuery({
    name: 'days',
    required: false,
    type: 'integer',
    description: 'composite: number of days, 1..366 (default 5)',
  })
  @ApiQuery({
    name: 'from',
    required: false,
    type: 'string',
    description: 'range: start (ms or ISO-8601, taken down to the minute)',
  })
  @ApiQuery({
    name: 'to',
    required: false,
    type: 'string',
    description: 'range: end, exclusive (taken up to the minute)',
  })
  @ApiGrouping()
  @ApiQuery({
    name: 'valueAreaPercent',
    required: false,
    type: 'number',
    description: 'Value area share, (0, 100] (default 70)',
  })
  @ApiQuery({ name: 'valueAreaMethod', required: false, enum: ['single', 'cme'] })
  @ApiQuery({ name: 'hvnPercentile', required: false, type: 'number' })
  @ApiQuery({ name: 'lvnPercentile', required: false, type: 'number' })
  @ApiErrors()
  async profile(
    @Query() q: Q,
    @Req() req: IncomingMessage,
    @Res({ passthrough: true }) res: ServerResponse,
  ): Promise<ProfileResponse> {
    checkQueryKeys(q, [
      'exchange',
      'symbol',
      'kind',
      'date',
      'days',
      'from',
      'to',
      'ticks',
      'mode',
      'valueAreaPercent',
      'valueAreaMethod',
      'hvnPercentile',
      'lvnPercentile',
    ]);
    const { exchange, symbol } = instrumentOf(q);
    const kind = queryEnum(q, 'kind', ['session', 'range', 'composite'] as const, 'session');
    const g = groupingOf(q);
    const options = {
      valueAreaPercent: queryDecimal(q, 'valueAreaPercent', 0.000001, 100, 70),
      valueAreaMethod: queryEnum(q, 'valueAreaMethod', ['single', 'cme'] as const, 'single'),
      hvnPercentile: queryDecimal(q, 'hvnPercentile', 0.000001, 100, 70),
      lvnPercentile: queryDecimal(q, 'lvnPercentile', 0.000001, 100, 30),
    };
    const allowed = kind === 'range' ? ['from', 'to'] : kind === 'composite' ? ['date', 'days'] : ['date'];
    for (const k of ['date', 'days', 'from', 'to'])
      if (q[k] !== undefined && !allowed.includes(k))
        throw badRequest(`${k} does not apply to kind=${kind} (it takes ${allowed.join(', ')})`);
    const view = await this.view(exchange, symbol);
    const signal = abortOnClose(req, res);
    let from: number;
    let to: number;
    if (kind === 'range') {
      const f = queryTime(q, 'from');
      const t = queryTime(q, 'to');
      if (f === undefined || t === undefined) throw badRequest('kind=range needs from and to');
      from = f - (f % 60_000);
      to = t % 60_000 === 0 ? t : t - (t % 60_000) + 60_000;
      if (to <= from) throw badRequest('to must be after from');
      if (to - from > 366 * DAY) throw badRequest('a range profile covers at most 366 days');
    } else {
      const dateText = queryValue(q, 'date');
      let day: number;
      if (dateText !== undefined) {
        if (!/^\d{4}-\d{2}-\d{2}$/.test(dateText))
          throw badRequest(`date must be YYYY-MM-DD, got ${JSON.stringify(dateText.slice(0, 40))}`);
        day = parseTime(dateText, 'date');
      } else {
        const latest = await this.runtime.history.latestMinute(view, signal);
        day = bucketStartOfMs(latest ?? Date.now(), '1d');
      }
      const days = kind === 'composite' ? queryInt(q, 'days', 1, 366, 5) : 1;
      from = day - (days - 1) * DAY;
      to = Math.min(day + DAY, MAX_TIME_MS);
    }
    const step = stepOf(view, g.ticks);
    const p = await rangeProfile(this.runtime.history, view, from, to, step, g.mode, options, signal);
    return { ...describe(view), kind, ticks: g.ticks, mode: g.mode, ...options, ...p };
  }

  @Get('vwap')
  @ApiOperation({
    summary:
      'VWAP with 1, 2 and 3 standard deviation bands per candle, session-anchored or anchored at a time; exact decimals',
  })
  @ApiInstrument()
  @ApiRange()
  @ApiQuery({
    name: 'anchor',
    required: false,
    type: 'string',
    description: 'Start accumulating at this time (ms or ISO-8601); default: from',
  })
  @ApiQuery({
    name: 'session',
    required: false,
    type: 'boolean',
    description: 'Restart at each UTC day (default false)',
  })
  @ApiQuery({
    name: 'decimals',
    required: false,
    type: 'integer',
    description: 'Fractional digits (default priceScale + 4)',
  })
  @ApiErrors()
  async vwap(
    @Query() q: Q,
    @Req() req: IncomingMessage,
    @Res({ passthrough: true }) res: ServerResponse,
  ): Promise<VwapResponse> {
    checkQueryKeys(q, ['exchange', 'symbol', 'timeframe', 'from', 'to', 'anchor', 'session', 'decimals']);
    const r = rangeOf(q, this.limits.maxCandles);
    const anchor = queryTime(q, 'anchor');
    const resetEachSession = queryBool(q, 'session', false);
    const view = await this.view(r.exchange, r.symbol);
    const decimals = q['decimals'] === undefined ? undefined : queryInt(q, 'decimals', view.scales.priceScale, 30);
    const points = await vwapPoints(
      this.runtime.history,
      view,
      r.timeframe,
      r.from,
      r.to,
      {
        resetEachSession,
        ...(anchor !== undefined ? { anchorTime: anchor } : {}),
        ...(decimals !== undefined ? { decimals } : {}),
      },
      abortOnClose(req, res),
    );
    return {
      ...describe(view),
      timeframe: r.timeframe,
      from: r.from,
      to: r.to,
      session: resetEachSession,
      anchor: anchor ?? null,
      points,
    };
  }

  @Get('cvd')
  @ApiOperation({
    summary: 'Cumulative volume delta per candle with its intra-candle high/low, optionally reset each UTC day',
  })
  @ApiInstrument()
  @ApiRange()
  @ApiQuery({ name: 'session', required: false, type: 'boolean', description: 'Reset at each UTC day (default false)' })
  @ApiErrors()
  async cvd(
    @Query() q: Q,
    @Req() req: IncomingMessage,
    @Res({ passthrough: true }) res: ServerResponse,
  ): Promise<CvdResponse> {
    checkQueryKeys(q, ['exchange', 'symbol', 'timeframe', 'from', 'to', 'session']);
    const r = rangeOf(q, this.limits.maxExportCandles);
    const resetEachSession = queryBool(q, 'session', false);
    const view = await this.view(r.exchange, r.symbol);
    const points = await cvd(
      this.runtime.history,
      view,
      r.timeframe,
      r.from,
      r.to,
      resetEachSession,
      abortOnClose(req, res),
    );
    return { ...describe(view), timeframe: r.timeframe, from: r.from, to: r.to, session: resetEachSession, points };
  }

  @Get('tpo')
  @ApiOperation({
    summary: 'Market profile (TPO) per UTC session: letters per period, initial balance, single prints, TPO POC',
  })
  @ApiInstrument()
  @ApiRange(false)
  @ApiGrouping()
  @ApiQuery({ name: 'period', required: false, enum: ['30', '60'], description: 'Minutes per letter (default 30)' })
  @ApiQuery({
    name: 'ibPeriods',
    required: false,
    type: 'integer',
    description: 'Periods in the initial balance (default 2)',
  })
  @ApiErrors()
  async tpo(
    @Query() q: Q,
    @Req() req: IncomingMessage,
    @Res({ passthrough: true }) res: ServerResponse,
  ): Promise<TpoResponse> {
    checkQueryKeys(q, ['exchange', 'symbol', 'from', 'to', 'ticks', 'mode', 'period', 'ibPeriods']);
    const period = queryEnum(q, 'period', ['30', '60'] as const, '30');
    const r = rangeOf(q, 31 * 48, period === '60' ? '1h' : '30m');
    const g = groupingOf(q);
    const ib = queryInt(q, 'ibPeriods', 1, 48, 2);
    const view = await this.view(r.exchange, r.symbol);
    const sessions = await tpo(
      this.runtime.history,
      view,
      r.from,
      r.to,
      stepOf(view, g.ticks),
      g.mode,
      Number(period) * 60_000,
      ib,
      abortOnClose(req, res),
    );
    return {
      ...describe(view),
      from: r.from,
      to: r.to,
      ticks: g.ticks,
      mode: g.mode,
      period: Number(period),
      sessions,
    };
  }

  @Get('imbalances')
  @ApiOperation({ summary: 'Diagonal imbalances and stacked imbalances per candle at a grouping' })
  @ApiInstrument()
  @ApiRange()
  @ApiGrouping()
  @ApiQuery({
    name: 'ratio',
    required: false,
    type: 'number',
    description: 'Dominant side >= ratio x the diagonal opposite (default 3)',
  })
  @ApiQuery({
    name: 'minVolume',
    required: false,
    type: 'integer',
    description: 'Dominant volume at least (quantity units, default 1)',
  })
  @ApiQuery({
    name: 'stackCount',
    required: false,
    type: 'integer',
    description: 'Consecutive levels that make a stack (default 3)',
  })
  @ApiErrors()
  async imbalances(
    @Query() q: Q,
    @Req() req: IncomingMessage,
    @Res({ passthrough: true }) res: ServerResponse,
  ): Promise<ImbalancesResponse> {
    checkQueryKeys(q, [
      'exchange',
      'symbol',
      'timeframe',
      'from',
      'to',
      'ticks',
      'mode',
      'ratio',
      'minVolume',
      'stackCount',
    ]);
    const r = rangeOf(q, this.limits.maxCandles);
    const g = groupingOf(q);
    const o = {
      ratio: queryDecimal(q, 'ratio', 0.000001, 1_000_000, 3),
      minVolume: queryInt(q, 'minVolume', 1, Number.MAX_SAFE_INTEGER, 1),
      stackCount: queryInt(q, 'stackCount', 2, 1000, 3),
    };
    const view = await this.view(r.exchange, r.symbol);
    const candles = await imbalanceList(
      this.runtime.history,
      view,
      r.timeframe,
      r.from,
      r.to,
      stepOf(view, g.ticks),
      g.mode,
      o,
      abortOnClose(req, res),
    );
    return {
      ...describe(view),
      timeframe: r.timeframe,
      from: r.from,
      to: r.to,
      ticks: g.ticks,
      mode: g.mode,
      ...o,
      candles,
    };
  }

  @Get('naked-pocs')
  @ApiOperation({ summary: 'Candle POCs that no later candle of the range traded through' })
  @ApiInstrument()
  @ApiRange()
  @ApiGrouping()
  @ApiErrors()
  async nakedPocs(
    @Query() q: Q,
    @Req() req: IncomingMessage,
    @Res({ passthrough: true }) res: ServerResponse,
  ): Promise<NakedPocsResponse> {
    checkQueryKeys(q, ['exchange', 'symbol', 'timeframe', 'from', 'to', 'ticks', 'mode']);
    const r = rangeOf(q, this.limits.maxCandles);
    const g = groupingOf(q);
    const view = await this.view(r.exchange, r.symbol);
    const pocs = await nakedPocList(
      this.runtime.history,
      view,
      r.timeframe,
      r.from,
      r.to,
      stepOf(view, g.ticks),
      g.mode,
      abortOnClose(req, res),
    );
    return { ...describe(view), timeframe: r.timeframe, from: r.from, to: r.to, ticks: g.ticks, mode: g.mode, pocs };
  }
}
