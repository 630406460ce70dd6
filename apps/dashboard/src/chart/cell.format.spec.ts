import { describe, expect, it } from 'vitest';
import type { WireCell } from '@orderflow/contracts';
import { cellColor, cellText, exactQty, fontSize, shadeScale, shortQty, textFits } from './cell.format.js';

describe('cell text', () => {
  it('prints each mode from the cell (bid x ask = sold x bought)', () => {
    const cell: WireCell = [6_000_000, 150_000, 2_500_000, 3, 7];
    expect(cellText(cell, 'bidAsk', 5)).toEqual(['25', '1.5']);
    expect(cellText(cell, 'delta', 5)).toEqual(['-23.5']);
    expect(cellText(cell, 'volume', 5)).toEqual(['26.5']);
    expect(cellText(cell, 'trades', 5)).toEqual(['10']);
    expect(cellText(cell, 'deltaVolume', 5)).toEqual(['-23.5', '26.5']);
  });

  it('shortens large quantities and keeps small ones exact enough; exact decimals for the tooltip', () => {
    expect(shortQty(1_234_567_890_000, 5)).toBe('12.3M');
    expect(shortQty(2_345_600_000, 5)).toBe('23.5k');
    expect(shortQty(123_456, 5)).toBe('1.23');
    expect(shortQty(1_234, 5)).toBe('0.012');
    expect(shortQty(-10, 5)).toBe('0');
    expect(shortQty(0, 5)).toBe('0');
    expect(exactQty(1_234, 5)).toBe('0.01234');
    expect(exactQty(-150_000, 5)).toBe('-1.5');
  });

  it('hides text that does not fit the cell', () => {
    expect(textFits(['25', '1.5'], 60, 12)).toBe(true);
    expect(textFits(['25', '1.5'], 30, 12)).toBe(false);
    expect(textFits(['25'], 60, 8)).toBe(false);
    expect(fontSize(30)).toBe(11);
    expect(fontSize(9)).toBe(8);
  });
});

describe('cell shading', () => {
  const scale = shadeScale([
    [
      [1, 100, 0, 1, 0],
      [2, 0, 50, 0, 1],
      [3, 10, 10, 1, 1],
    ],
  ]);
  it('scales to the largest |delta| and volume', () => {
    expect(scale).toEqual({ maxAbsDelta: 100, maxVolume: 100 });
  });
  it('is green for buyers, red for sellers, more opaque for more', () => {
    const a = (s: string) => Number(/,([\d.]+)\)$/.exec(s)![1]);
    const buy = cellColor([1, 100, 0, 1, 0], 'delta', scale);
    const sell = cellColor([2, 0, 50, 0, 1], 'delta', scale);
    expect(buy.startsWith('rgba(38,166,154')).toBe(true);
    expect(sell.startsWith('rgba(239,83,80')).toBe(true);
    expect(a(buy)).toBeGreaterThan(a(sell));
    expect(a(cellColor([3, 10, 10, 1, 1], 'volume', scale))).toBeLessThan(
      a(cellColor([1, 100, 0, 1, 0], 'volume', scale)),
    );
  });
});
