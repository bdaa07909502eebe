import { useEffect, useLayoutEffect, useRef, useState, useSyncExternalStore } from 'react'
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import './chart.css'

/** One plotted line (or bar set): its name, one of the palette's `--chart-N` colours, and how its values read. */
export interface ChartSeries {
  label: string
  color: 1 | 2 | 3 | 4 | 5 | 6
  /** A value as the axis and the readout say it, with its unit. */
  format: (value: number) => string
}

/** `time`: x holds epoch ms, drawn as lines over `range`; `categories`: x is 0…n-1, drawn as bars named by `labels`. */
export type ChartX = { kind: 'time'; range: [number, number] } | { kind: 'categories'; labels: string[] }

export interface ChartProps {
  /** x first, then one array per series (null: no reading). The same arrays may be passed again; a new array is redrawn. */
  data: uPlot.AlignedData
  series: ChartSeries[]
  x: ChartX
  /** Pixels, fixed before data arrives so a live update never moves the page. */
  height: number
  /** What the chart shows, for screen readers (the figures it draws are in text beside it). */
  label: string
  /** The y axis starts at 0 and reaches at least this (e.g. 100 for percent, a GPU's memory). */
  yMax?: number
  testId?: string
}

const dark = typeof matchMedia === 'function' ? matchMedia('(prefers-color-scheme: dark)') : null
const subscribeScheme = (fn: () => void) => {
  dark?.addEventListener('change', fn)
  return () => dark?.removeEventListener('change', fn)
}
const isDark = () => dark?.matches ?? false

const css = (el: Element, name: string) => getComputedStyle(el).getPropertyValue(name).trim() || '#888'

/** The room one category name takes on the x axis. */
const LABEL_PX = 110

const clock = (ms: number) => {
  const d = new Date(ms)
  const p = (n: number) => String(n).padStart(2, '0')
  return `${p(d.getHours())}:${p(d.getMinutes())}`
}

/**
 * A uPlot chart sized to its container. It is created once per shape (series, kind, height, colour scheme) and fed
 * with `setData` after that: re-creating it on every sample would redraw axes and DOM for nothing.
 */
export function Chart(props: ChartProps) {
  const { data, series, x, height, label, testId } = props
  const box = useRef<HTMLDivElement>(null)
  const plot = useRef<uPlot | null>(null)
  // The latest props for uPlot's callbacks (ranges, tick labels), which outlive a render; updated before the effects
  // below hand new data to uPlot, which calls them.
  const latest = useRef(props)
  useLayoutEffect(() => {
    latest.current = props
  })
  const scheme = useSyncExternalStore(subscribeScheme, isDark)
  const [cursor, setCursor] = useState<number | null>(null)
  const shape = JSON.stringify([series.map((s) => [s.label, s.color]), x.kind, height, scheme])

  useEffect(() => {
    const el = box.current
    if (!el) return
    const made = new uPlot(options(el, latest, setCursor), latest.current.data, el)
    plot.current = made
    const observer = new ResizeObserver(([entry]) => {
      const width = Math.floor(entry?.contentRect.width ?? 0)
      if (width > 0 && width !== made.width) made.setSize({ width, height: latest.current.height })
    })
    observer.observe(el)
    return () => {
      observer.disconnect()
      made.destroy()
      plot.current = null
    }
    // `shape` stands for everything the options are made of; data changes go through setData below.
  }, [shape])

  useEffect(() => {
    plot.current?.setData(data)
  }, [data, x])

  const at = cursor === null ? null : (data[0][cursor] ?? null)
  return (
    <figure className="chart" data-testid={testId} data-points={data[0].length}>
      <div className="chart-plot" ref={box} role="img" aria-label={label} style={{ height }} />
      <figcaption className="chart-readout" aria-hidden="true">
        {at === null
          ? ' '
          : [
              x.kind === 'time' ? clock(at) : (x.labels[at] ?? ''),
              ...series.map((s, i) => {
                const v = data[i + 1]?.[cursor!]
                return `${s.label} ${v === null || v === undefined ? '—' : s.format(v)}`
              }),
            ].join(' · ')}
      </figcaption>
    </figure>
  )
}

function options(el: HTMLElement, latest: { current: ChartProps }, setCursor: (index: number | null) => void): uPlot.Options {
  const { series, x, height } = latest.current
  const muted = css(el, '--muted')
  const grid = { stroke: css(el, '--border'), width: 1 }
  const ticks = { stroke: css(el, '--border'), width: 1, size: 4 }
  const font = '11px system-ui, sans-serif'
  const bars = x.kind === 'categories'
  const format = series[0]?.format ?? String
  return {
    width: Math.max(1, Math.floor(el.clientWidth)),
    height,
    ms: 1,
    legend: { show: false },
    padding: [8, 8, 0, 0],
    cursor: { drag: { x: false, y: false }, points: { show: !bars } },
    scales: {
      x: bars
        ? { time: false, range: (_u, _min, _max) => [-0.5, Math.max(0.5, (latest.current.data[0].length || 1) - 0.5)] }
        : { time: true, range: () => (latest.current.x.kind === 'time' ? latest.current.x.range : [0, 1]) },
      y: {
        range: (_u, _min, max) => {
          const top = Math.max(latest.current.yMax ?? 0, max ?? 0)
          return [0, top > 0 ? top : 1]
        },
      },
    },
    axes: [
      {
        stroke: muted,
        font,
        grid: { show: false },
        ticks,
        size: 28,
        ...(bars
          ? {
              // Every bar is named while the names fit (~7 rem each); past that every k-th, so they never overlap.
              splits: (u: uPlot) => {
                const n = latest.current.data[0].length
                const fit = Math.max(1, Math.floor(u.bbox.width / (devicePixelRatio || 1) / LABEL_PX))
                const step = Math.ceil(n / fit)
                return Array.from({ length: n }, (_, i) => i).filter((i) => i % step === 0)
              },
              values: (_u: uPlot, splits: number[]) =>
                splits.map((i) => {
                  const name = latest.current.x.kind === 'categories' ? (latest.current.x.labels[i] ?? '') : ''
                  return name.length > 16 ? `${name.slice(0, 15)}…` : name
                }),
            }
          : { values: (_u: uPlot, splits: number[]) => splits.map(clock) }),
      },
      { stroke: muted, font, grid, ticks, size: 64, values: (_u, splits) => splits.map((v) => format(v)) },
    ],
    series: [
      {},
      ...series.map((s): uPlot.Series => {
        const color = css(el, `--chart-${s.color}`)
        return bars
          ? {
              label: s.label,
              stroke: color,
              fill: color,
              width: 0,
              paths: uPlot.paths.bars!({ size: [0.6, 64] }),
              points: { show: false },
            }
          : // uPlot's default draws points only while they are sparse: a chart's first sample shows as a dot.
            { label: s.label, stroke: color, fill: `${color}22`, width: 1.5, spanGaps: false }
      }),
    ],
    hooks: {
      setCursor: [(u) => setCursor(u.cursor.idx ?? null)],
    },
  }
}
