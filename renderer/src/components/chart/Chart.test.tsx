import { act, render, screen } from '@testing-library/react'
import type uPlot from 'uplot'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { Chart, type ChartProps, type ChartSeries } from './Chart.js'
import { FakePlot } from './fake-uplot.js'

vi.mock('uplot', () => import('./fake-uplot.js'))

/** A ResizeObserver the test drives: resize(width) tells every observer its box changed. */
class FakeResizeObserver {
  static all: FakeResizeObserver[] = []
  disconnected = false
  constructor(readonly callback: ResizeObserverCallback) {
    FakeResizeObserver.all.push(this)
  }
  observe(): void {}
  disconnect(): void {
    this.disconnected = true
  }
  static resize(width: number): void {
    for (const o of FakeResizeObserver.all)
      if (!o.disconnected) o.callback([{ contentRect: { width } } as ResizeObserverEntry], o as unknown as ResizeObserver)
  }
}

const POWER: ChartSeries = { label: 'Power', color: 4, format: (v) => `${Math.round(v)} W` }
const T0 = new Date(2025, 0, 31, 12, 0, 0).getTime()
const props = (data: uPlot.AlignedData, over: Partial<ChartProps> = {}): ChartProps => ({
  data,
  series: [POWER],
  x: { kind: 'time', range: [T0 - 60_000, T0 + 2000] },
  height: 96,
  label: 'GPU 0 power over time',
  testId: 'chart',
  ...over,
})

beforeEach(() => {
  FakePlot.made = []
  FakeResizeObserver.all = []
  vi.stubGlobal('ResizeObserver', FakeResizeObserver)
})

describe('Chart', () => {
  it('draws once, then takes new samples through setData without being made again', () => {
    const first: uPlot.AlignedData = [[T0], [73]]
    const { rerender } = render(<Chart {...props(first)} />)
    expect(FakePlot.made).toHaveLength(1)
    expect(screen.getByTestId('chart').getAttribute('data-points')).toBe('1')
    expect(screen.getByRole('img', { name: 'GPU 0 power over time' }).querySelector('canvas')).not.toBeNull()

    const next: uPlot.AlignedData = [
      [T0, T0 + 2000],
      [73, 129],
    ]
    rerender(<Chart {...props(next)} />)
    expect(FakePlot.made).toHaveLength(1)
    expect(FakePlot.latest().data).toBe(next)
    expect(screen.getByTestId('chart').getAttribute('data-points')).toBe('2')
  })

  it('is made again only when its shape changes, and the old one is destroyed', () => {
    const data: uPlot.AlignedData = [[T0], [73]]
    const { rerender, unmount } = render(<Chart {...props(data)} />)
    rerender(<Chart {...props(data, { series: [{ ...POWER, label: 'Power draw' }] })} />)
    expect(FakePlot.made).toHaveLength(2)
    expect(FakePlot.made[0]!.destroyed).toBe(true)
    unmount()
    expect(FakePlot.made[1]!.destroyed).toBe(true)
  })

  it('follows its container’s width at a fixed height', () => {
    render(<Chart {...props([[T0], [73]])} />)
    expect(screen.getByRole('img').style.height).toBe('96px')
    act(() => FakeResizeObserver.resize(640))
    expect(FakePlot.latest().sizes).toEqual([{ width: 640, height: 96 }])
    act(() => FakeResizeObserver.resize(640))
    expect(FakePlot.latest().sizes).toHaveLength(1)
  })

  it('shows the window it is given and a y axis from 0 to at least yMax', () => {
    render(<Chart {...props([[T0], [73]], { yMax: 700 })} />)
    const { scales } = FakePlot.latest().opts
    const u = FakePlot.latest() as unknown as uPlot
    const xRange = scales!.x!.range as (u: uPlot, min: number, max: number) => [number, number]
    const yRange = scales!.y!.range as (u: uPlot, min: number, max: number) => [number, number]
    expect(xRange(u, T0, T0)).toEqual([T0 - 60_000, T0 + 2000])
    expect(yRange(u, 0, 129)).toEqual([0, 700])
    expect(yRange(u, 0, 900)).toEqual([0, 900])
  })

  it('reads out the values under the cursor with their units', () => {
    render(
      <Chart
        {...props([
          [T0, T0 + 2000],
          [73, null],
        ])}
      />,
    )
    act(() => FakePlot.latest().hover(0))
    expect(screen.getByTestId('chart').textContent).toBe('12:00 · Power 73 W')
    act(() => FakePlot.latest().hover(1))
    expect(screen.getByTestId('chart').textContent).toBe('12:00 · Power —')
  })

  it('draws categories as bars named by their labels', () => {
    render(
      <Chart
        {...props(
          [
            [0, 1],
            [3, 5],
          ],
          { x: { kind: 'categories', labels: ['tiny', 'a-very-long-model-name-indeed'] } },
        )}
      />,
    )
    const axis = FakePlot.latest().opts.axes![0]!
    const values = axis.values as (u: uPlot, splits: number[]) => string[]
    expect(values(FakePlot.latest() as unknown as uPlot, [0, 1])).toEqual(['tiny', 'a-very-long-mod…'])
    act(() => FakePlot.latest().hover(1))
    expect(screen.getByTestId('chart').textContent).toBe('a-very-long-model-name-indeed · Power 5 W')
  })

  it('names every bar while the names fit, and every k-th past that', () => {
    const n = 30
    const data: uPlot.AlignedData = [Array.from({ length: n }, (_, i) => i), Array.from({ length: n }, () => 1)]
    const labels = Array.from({ length: n }, (_, i) => `2025-01-${String(i + 1).padStart(2, '0')}`)
    render(<Chart {...props(data, { x: { kind: 'categories', labels } })} />)
    const splits = FakePlot.latest().opts.axes![0]!.splits as (u: uPlot) => number[]
    const at = (width: number) => splits({ bbox: { width } } as uPlot)
    expect(at(4000)).toHaveLength(30)
    expect(at(330)).toEqual([0, 10, 20])
  })
})
