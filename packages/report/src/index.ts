// Public API of @splitnet/report: results directory → self-contained HTML report and standalone SVG figures.
export { buildReport, renderRunReport, renderSweepReport, scenarioDescription, svgFile } from './report.js';
export type { Report, ReportOptions } from './report.js';
export { loadResults, loadRun, loadSweep, flatten } from './load.js';
export type { RunData, SweepData, SweepFile, SweepAxis, TableRow, ResultsData, LatencyFile, RunEvent, MetricsRow } from './load.js';
export type { Figure, Omitted, ReportItem } from './figure.js';
export { lineChart, barChart, fitText } from './charts.js';
export type { Chart, LineChartSpec, BarChartSpec, XYSeries, XYPoint, BarSeries, Span, VLine } from './charts.js';
export { niceTicks, tickFormatter, formatValue } from './scale.js';
export { estimate, tQuantile975 } from './stats.js';
export type { ErrorBars, Estimate } from './stats.js';
export { faultSpans, latencyCdf, runFigures } from './run-figures.js';
export type { FaultSpan } from './run-figures.js';
export { axisGroups, groupName, repetitionsIdentical, sweepFigures, sweepPoints, valueLabel } from './sweep-figures.js';
export type { AxisGroup } from './sweep-figures.js';
export { DashboardView } from './dashboard/dashboard-view.js';
export type { DashboardFrame, DashboardRun, DashboardSample, DashboardStatus } from './dashboard/dashboard-view.js';
export { Dashboard } from './dashboard/dashboard-server.js';
export type { DashboardListen } from './dashboard/dashboard-server.js';
