import * as chartsModule from 'echarts/charts';
import * as componentsModule from 'echarts/components';
import * as coreModule from 'echarts/core';
import * as renderersModule from 'echarts/renderers';
import type * as Charts from 'echarts/types/dist/charts';
import type * as Components from 'echarts/types/dist/components';
import type * as Core from 'echarts/types/dist/core';
import type * as Renderers from 'echarts/types/dist/renderers';

// Charts are drawn here, in Node, by Apache ECharts' server-side SVG renderer: the report
// carries finished SVG and no charting code, so it opens from file:// with no network and no
// script, and the browser only lays out markup (docs/report.md, on the choice).

// ECharts' subpath entry points re-export their types from extensionless paths, which NodeNext
// resolution does not follow: the same modules, typed from their declaration files.
const echarts = coreModule as unknown as typeof Core;
const { BarChart, LineChart, SankeyChart } = chartsModule as unknown as typeof Charts;
const { GridComponent, LegendComponent, MarkLineComponent } =
  componentsModule as unknown as typeof Components;
const { SVGRenderer } = renderersModule as unknown as typeof Renderers;
echarts.use([
  LineChart,
  BarChart,
  SankeyChart,
  GridComponent,
  LegendComponent,
  MarkLineComponent,
  SVGRenderer,
]);

export type ChartOption = Core.EChartsCoreOption;

export const WIDTH = 960;

/** Series colours: Tableau 10, told apart by most colour-blind readers. */
export const PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#7f7f7f',
];

/** Renders one chart to an SVG string (no animation: the SVG is the final frame). */
export function renderSvg(option: ChartOption, height = 320, width = WIDTH): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption({
      animation: false,
      color: PALETTE,
      textStyle: { fontFamily: 'system-ui, sans-serif' },
      ...option,
    });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

const grid = { left: 70, right: 30, top: 40, bottom: 50 };
const legend = { top: 5, type: 'plain' as const };

export interface TimeSeries {
  name: string;
  /** [epoch ms, value] pairs. */
  points: [number, number][];
}

/** A time axis over the whole hours the data covers, within its UTC day. */
function dayAxis(series: TimeSeries[], dayStartMs: number) {
  const times = series.flatMap((s) => s.points.map((p) => p[0]));
  const hour = 3_600_000;
  const first = times.length ? Math.floor(Math.min(...times) / hour) * hour : dayStartMs;
  const last = times.length ? Math.ceil((Math.max(...times) + 1) / hour) * hour : dayStartMs + 86_400_000;
  return { type: 'time', min: Math.max(dayStartMs, first), max: Math.min(dayStartMs + 86_400_000, last) };
}

/** Room for the legend: a row for about every seven series. */
const gridFor = (seriesCount: number) => ({ ...grid, top: 40 + 22 * Math.floor((seriesCount - 1) / 7) });

/** Stacked areas (events per minute by type) or bars (quarantine per 10 minutes) over time. */
export function stackedOverTime(
  kind: 'area' | 'bar',
  series: TimeSeries[],
  yName: string,
  dayStartMs: number,
): ChartOption {
  const look =
    kind === 'area'
      ? { type: 'line', areaStyle: {}, symbol: 'none', lineStyle: { width: 1 } }
      : { type: 'bar', barMaxWidth: 24 };
  return {
    grid: gridFor(series.length),
    legend,
    xAxis: dayAxis(series, dayStartMs),
    yAxis: { type: 'value', name: yName },
    series: series.map((s) => ({ name: s.name, stack: 'total', ...look, data: s.points })),
  };
}

export interface CategorySeries {
  name: string;
  values: (number | null)[];
  /** Draw as a line on the same axis instead of bars. */
  line?: boolean;
  stack?: string;
}

export interface Marker {
  /** Category the marker stands on. */
  category: string;
  label: string;
}

/** Bars (or lines) over categories, with optional vertical markers (percentiles). */
export function categoryChart(
  categories: string[],
  series: CategorySeries[],
  options: {
    yName?: string;
    percent?: boolean;
    log?: boolean;
    markers?: Marker[];
    horizontal?: number[];
  } = {},
): ChartOption {
  const markLine =
    options.markers?.length || options.horizontal?.length
      ? {
          symbol: 'none',
          silent: true,
          lineStyle: { type: 'dashed', color: '#444' },
          label: { formatter: '{b}', position: 'end' },
          data: [
            // Labels of neighbouring markers are stacked, so they do not print over each other.
            ...(options.markers ?? []).map((m, i) => ({
              name: m.label,
              xAxis: m.category,
              label: { distance: 5 + 14 * i },
            })),
            ...(options.horizontal ?? []).map((y) => ({ name: '', yAxis: y })),
          ],
        }
      : undefined;
  return {
    grid: gridFor(series.length),
    legend,
    xAxis: { type: 'category', data: categories, axisLabel: { interval: 0, hideOverlap: true } },
    // Keys left out rather than undefined: ECharts reads an undefined axisLabel as "none".
    yAxis: {
      type: options.log ? 'log' : 'value',
      name: options.yName,
      ...(options.percent ? { max: 100, axisLabel: { formatter: '{value}%' } } : {}),
      ...(options.log ? { min: 1 } : {}),
      // A reference line above every bar (the 128 MB target over a small day) stays in view.
      ...(options.horizontal?.length
        ? {
            max: (extent: { max: number }) =>
              Math.max(extent.max, ...options.horizontal!) * (options.log ? 1 : 1.1),
          }
        : {}),
    },
    series: series.map((s, i) => ({
      name: s.name,
      type: s.line ? 'line' : 'bar',
      stack: s.stack,
      barMaxWidth: 40,
      symbolSize: 6,
      data: s.values,
      ...(i === 0 && markLine ? { markLine } : {}),
    })),
  };
}

export interface FlowLink {
  source: string;
  target: string;
  value: number;
}

/** Node colours of the flow by what a node is: the outcome reads at a glance. */
export const FLOW_COLOURS = {
  received: '#4e79a7',
  staged: '#59a14f',
  curated: '#76b7b2',
  quarantined: '#f28e2b',
  failed: '#e15759',
} as const;

/** Where every record went: a Sankey diagram of received -> outcomes. */
export function sankey(links: FlowLink[], colourOf: (name: string) => string): ChartOption {
  const names = [...new Set(links.flatMap((l) => [l.source, l.target]))];
  return {
    series: [
      {
        type: 'sankey',
        left: 20,
        right: 220,
        top: 20,
        bottom: 20,
        nodeGap: 12,
        layoutIterations: 0,
        // Outcomes stay in the column after their source, not pushed to the last one.
        nodeAlign: 'left',
        emphasis: { disabled: true },
        label: { formatter: '{b}' },
        lineStyle: { color: 'gradient', opacity: 0.4 },
        data: names.map((name) => ({ name, itemStyle: { color: colourOf(name) } })),
        // A zero-width link is invisible; keep every record path that exists.
        links: links.filter((l) => l.value > 0),
      },
    ],
  };
}
