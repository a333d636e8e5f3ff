/** Shared helpers for reports: JSON and CSV files, printed tables, SVG charts. */
export { writeFileAtomic, writeJson, toJson, siblingPath } from './files';
export { toCsv, writeCsv, type CsvValue } from './csv';
export { renderTable, renderMarkdownTable, type TableCell, type TableOptions } from './table';
export { renderSvg, writeSvg, seriesChartSpec, type SeriesPoint, type SeriesChartOptions, type TopLevelSpec } from './chart';
