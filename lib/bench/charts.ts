import * as path from 'node:path';
import { writeSvg, type TopLevelSpec } from '../report';
import type { BenchResults, Figure } from './results';

/** One horizontal bar chart per unit: each figure's median, with a rule from min to max. */
function unitChart(unit: string, figures: Figure[]): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `median with min–max over repetitions (${unit})`,
    width: 560,
    height: { step: 22 },
    data: { values: figures.map((f) => ({ figure: f.title, median: f.median, min: f.min, max: f.max })) },
    config: { background: 'white', font: 'sans-serif' },
    layer: [
      {
        mark: { type: 'bar', tooltip: true },
        encoding: {
          y: { field: 'figure', type: 'nominal', sort: null, title: null },
          x: { field: 'median', type: 'quantitative', title: unit },
        },
      },
      {
        mark: { type: 'rule', color: 'black' },
        encoding: { y: { field: 'figure', type: 'nominal', sort: null }, x: { field: 'min', type: 'quantitative' }, x2: { field: 'max' } },
      },
    ],
  };
}

/** Writes one SVG per unit into `dir`; returns their file names. */
export async function writeBenchCharts(dir: string, results: BenchResults): Promise<string[]> {
  const byUnit = new Map<string, Figure[]>();
  for (const f of results.figures) byUnit.set(f.unit, [...(byUnit.get(f.unit) ?? []), f]);
  const names: string[] = [];
  for (const [unit, figures] of byUnit) {
    const name = `chart-${unit.replace(/[^a-z0-9]+/gi, '_').replace(/_$/, '')}.svg`;
    await writeSvg(path.join(dir, name), unitChart(unit, figures));
    names.push(name);
  }
  return names;
}
