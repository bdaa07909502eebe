/**
 * A stand-in for uPlot in component tests: happy-dom has no canvas to draw on. It records what the Chart asks of it
 * (creation, setData, setSize, destroy) and leaves a <canvas> where the real one would.
 */
import type uPlot from 'uplot'

export class FakePlot {
  static made: FakePlot[] = []
  static paths = { bars: () => () => null }
  data: uPlot.AlignedData
  width: number
  setDataCalls = 0
  sizes: Array<{ width: number; height: number }> = []
  destroyed = false

  constructor(
    readonly opts: uPlot.Options,
    data: uPlot.AlignedData,
    readonly el: HTMLElement,
  ) {
    this.data = data
    this.width = opts.width
    el.appendChild(document.createElement('canvas'))
    FakePlot.made.push(this)
  }
  setData(data: uPlot.AlignedData): void {
    this.data = data
    this.setDataCalls++
  }
  setSize(size: { width: number; height: number }): void {
    this.width = size.width
    this.sizes.push(size)
  }
  destroy(): void {
    this.destroyed = true
    this.el.replaceChildren()
  }
  /** Moves the cursor to a data index, as hovering the plot does. */
  hover(idx: number | null): void {
    for (const hook of [this.opts.hooks?.setCursor ?? []].flat()) hook?.({ cursor: { idx } } as unknown as uPlot)
  }
  static latest(): FakePlot {
    const last = FakePlot.made.at(-1)
    if (!last) throw new Error('no chart was made')
    return last
  }
}

export default FakePlot
