import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { writeFileAtomic } from './files';

export type { TopLevelSpec };

/**
 * Renders a Vega-Lite spec to SVG text, entirely in Node: Vega-Lite compiles to a Vega spec, a headless
 * Vega view renders it with the SVG renderer (no canvas, no browser, no native module).
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const vegaSpec = compile(spec).spec;
  const view = new vega.View(vega.parse(vegaSpec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export async function writeSvg(file: string, spec: TopLevelSpec): Promise<void> {
  writeFileAtomic(file, await renderSvg(spec));
}

/** One point of a series chart: `x` (a number or a label), `y` (a number, or null for "not measured"). */
export interface SeriesPoint {
  series: string;
  x: number | string;
  y: number | null;
}

export interface SeriesChartOptions {
  title: string;
  xTitle: string;
  yTitle: string;
  /** 'line' draws one line with points per series; 'bar' draws grouped bars. */
  mark?: 'line' | 'bar';
  /** A log scale on y, for figures that span orders of magnitude. */
  logY?: boolean;
  /** Series order in the legend and colours (default: first appearance). */
  seriesOrder?: readonly string[];
  width?: number;
  height?: number;
}

/** Integer x values (iterations, sizes) get exactly their own ticks, never 1.5. */
function xAxis(xs: readonly number[]): { values?: number[]; format?: string } {
  const distinct = [...new Set(xs)].sort((a, b) => a - b);
  if (distinct.length > 0 && distinct.length <= 30 && distinct.every(Number.isInteger)) return { values: distinct, format: 'd' };
  return {};
}

/**
 * A chart of several series over a shared x axis: the common shape of a benchmark figure (time per
 * iteration by mode, throughput per size by system, ...). Points with y = null are left out, not drawn as 0.
 */
export function seriesChartSpec(points: readonly SeriesPoint[], opts: SeriesChartOptions): TopLevelSpec {
  const values = points.filter((p) => p.y !== null && Number.isFinite(p.y));
  const order = opts.seriesOrder ? [...opts.seriesOrder] : [...new Set(points.map((p) => p.series))];
  const numericX = values.every((p) => typeof p.x === 'number');
  const mark = opts.mark ?? 'line';
  const y = { field: 'y', type: 'quantitative' as const, title: opts.yTitle, ...(opts.logY ? { scale: { type: 'log' as const } } : {}) };
  const color = { field: 'series', type: 'nominal' as const, title: null, sort: order, scale: { domain: order } };
  const common = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: opts.title,
    width: opts.width ?? 640,
    height: opts.height ?? 320,
    data: { values: values.map((p) => ({ ...p })) },
    config: { background: 'white', font: 'sans-serif' },
  };
  if (mark === 'bar') {
    return {
      ...common,
      mark: { type: 'bar', tooltip: true },
      encoding: {
        x: { field: 'x', type: 'ordinal', title: opts.xTitle },
        xOffset: { field: 'series', sort: order },
        y,
        color,
      },
    } as TopLevelSpec;
  }
  return {
    ...common,
    mark: { type: 'line', point: true, tooltip: true },
    encoding: {
      x: numericX
        ? { field: 'x', type: 'quantitative', title: opts.xTitle, axis: xAxis(values.map((p) => p.x as number)) }
        : { field: 'x', type: 'ordinal', title: opts.xTitle },
      y,
      color,
    },
  } as TopLevelSpec;
}
