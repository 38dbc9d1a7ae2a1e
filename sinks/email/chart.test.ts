import { chartSvg, renderPng } from './chart';

const T0 = Date.UTC(2026, 0, 5, 0);
const HOUR = 3_600_000;
const points = Array.from({ length: 24 }, (_, i) => ({ tMs: T0 + i * HOUR, value: 60 + i * 0.5 }));

describe('alert chart', () => {
  test('draws the means, the forecast to the breach and the limit', () => {
    const svg = chartSvg({ title: 'lathe-1: hourly mean of tempA', points, threshold: 80, forecast: { tMs: T0 + 30 * HOUR, value: 80.5 } });
    expect(svg).toContain('data-series="means"');
    expect(svg).toContain('data-series="forecast"');
    expect(svg).toContain('data-series="limit"');
    expect(svg.match(/points="([^"]+)"/)![1]!.split(' ')).toHaveLength(24);
  });

  test('leaves out what the alert does not have, and escapes its title', () => {
    const svg = chartSvg({ title: '<b>"x"</b>', points });
    expect(svg).not.toContain('data-series="forecast"');
    expect(svg).not.toContain('data-series="limit"');
    expect(svg).toContain('&lt;b&gt;&quot;x&quot;&lt;/b&gt;');
  });

  test.each([
    ['no points', []],
    ['one point', [{ tMs: T0, value: 1 }]],
    ['flat', [{ tMs: T0, value: 1 }, { tMs: T0 + HOUR, value: 1 }]],
  ])('%s still gives a valid chart', (_name, pts) => {
    expect(chartSvg({ title: 't', points: pts, threshold: 2 })).not.toMatch(/NaN|Infinity/);
  });

  test('rasterises to a PNG', () => {
    const png = renderPng(chartSvg({ title: 't', points, threshold: 80 }));
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.readUInt32BE(16)).toBe(640);
  });
});
