import { act, render, screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import type { SystemResponse } from '../../../../gateway/contract/index.js'
import type { SystemView } from '../../api.js'
import { FakePlot } from '../../components/chart/fake-uplot.js'
import { useStore } from '../../store/index.js'
import { applyEvent } from '../../store/slices.js'
import { signInAs, stubFetch } from '../../test/fakes.js'
import { Component } from './index.js'
import { GIB, gpu, sample } from './test-samples.js'

vi.mock('uplot', () => import('../../components/chart/fake-uplot.js'))

const NOW = 1_750_000_000_000
const ready = (samples: ReturnType<typeof sample>[], monitorError: string | null = null) =>
  useStore.setState({ samples, monitorStatus: 'ready', monitorError })

/** Samples every 2 s over the last `minutes`. */
const history = (minutes: number, gpus = () => [gpu(0)]) =>
  Array.from({ length: (minutes * 60) / 2 }, (_, i) => sample(NOW - (minutes * 60 - 2 - i * 2) * 1000, gpus()))

const system: SystemResponse = {
  cortex: null,
  snapshot: { cpu: { model: 'AMD EPYC 9654', cores: 192, physicalCores: 96 }, memoryTotalBytes: 8 * GIB, gpus: [] },
  host: null,
  at: NOW,
  error: null,
}

beforeEach(() => {
  FakePlot.made = []
  signInAs('admin')
})

describe('GPUs screen', () => {
  it('says it is reading while the first samples come', () => {
    render(<Component />)
    expect(screen.getByTestId('state-loading').textContent).toContain('Reading the GPUs')
  })

  it('shows a failure with its message, and tries again', async () => {
    useStore.setState({ monitorStatus: 'error', monitorError: 'Cortex did not answer (fetch failed): is it running?' })
    const { calls } = stubFetch({
      'GET /admin/api/gpus': { body: { data: [gpu(0)], at: NOW, error: null, history: [] } },
      'GET /admin/api/system': { body: { ...system, history: [] } },
    })
    render(<Component />)
    expect(screen.getByTestId('state-error').textContent).toContain('Cortex did not answer')
    await userEvent.click(screen.getByRole('button', { name: 'Try again' }))
    expect(calls.map((c) => c.url)).toEqual(['/admin/api/gpus?history=1', '/admin/api/system?history=1'])
    expect(await screen.findByTestId('gpu-0')).toBeTruthy()
  })

  it('without a GPU says so plainly, not as an error, and still shows the host', () => {
    ready([sample(NOW, [])])
    render(<Component />)
    expect(screen.getByTestId('state-empty').textContent).toMatch(/No NVIDIA GPU found.*nvidia-smi is not on PATH/)
    expect(screen.queryByTestId('state-error')).toBeNull()
    expect(screen.getByTestId('host-cpu').textContent).toBe('10 %')
  })

  it('without a GPU because nvidia-smi failed, gives its reason', () => {
    ready([sample(NOW, [])], 'nvidia-smi exited with status 9: NVIDIA-SMI has failed')
    render(<Component />)
    expect(screen.getByTestId('no-gpu').textContent).toBe('nvidia-smi exited with status 9: NVIDIA-SMI has failed')
  })

  it('shows one card per GPU with its figures in units and memory split by model', () => {
    const busy = gpu(1, {
      processes: [{ pid: 7, processName: 'llama-server', usedBytes: 2 * GIB, model: { id: 'm1', name: 'qwen' } }],
    })
    ready([sample(NOW, [gpu(0), busy])])
    render(<Component />)
    const card = within(screen.getByTestId('gpu-0'))
    expect(card.getByTestId('gpu-0-name').textContent).toBe('NVIDIA H100 80GB HBM3')
    expect(card.getByTestId('gpu-0-memory').textContent).toBe('2.64 GiB of 79.6 GiB')
    expect(card.getByTestId('gpu-0-utilization').textContent).toBe('0 %')
    expect(card.getByTestId('gpu-0-temperature').textContent).toBe('40 °C')
    expect(card.getByTestId('gpu-0-power').textContent).toBe('129 W of 700 W')
    expect(card.getAllByTestId('gpu-0-memory-part').map((p) => p.textContent)).toEqual(['other 2.64 GiB'])
    expect(screen.getAllByTestId('gpu-1-memory-part').map((p) => p.textContent)).toEqual(['qwen 2 GiB', 'other 659 MiB'])
    expect(screen.getByRole('img', { name: /^Memory: qwen 2 GiB, other 659 MiB, free 76.5 GiB$/ })).toBeTruthy()
    expect(screen.getAllByRole('heading', { level: 2 }).map((h) => h.textContent)).toEqual([
      'GPU 0 NVIDIA H100 80GB HBM3',
      'GPU 1 NVIDIA H100 80GB HBM3',
      'Host',
    ])
  })

  it('moves its charts with each live sample, through setData, without making them again', () => {
    ready(history(1))
    render(<Component />)
    const charts = FakePlot.made.length
    expect(charts).toBe(6) // four for the GPU, two for the host
    expect(screen.getByTestId('gpu-0-chart-power').getAttribute('data-points')).toBe('30')
    act(() => {
      const event = { type: 'gpu_sample' as const, sample: { ...sample(NOW + 2000, [gpu(0, { powerDrawW: 73 })]), error: null } }
      useStore.setState((s) => applyEvent(s, event, NOW + 2000))
    })
    expect(screen.getByTestId('gpu-0-chart-power').getAttribute('data-points')).toBe('31')
    expect(screen.getByTestId('gpu-0-power').textContent).toBe('73 W of 700 W')
    expect(FakePlot.made).toHaveLength(charts)
    expect(FakePlot.made.every((p) => !p.destroyed && p.data[0].length === 31)).toBe(true)
  })

  it('draws the last 15 minutes, or the hour when asked', async () => {
    ready(history(60))
    render(<Component />)
    // Both ends of the window count: 15 min of 2 s samples and the one 15 min before the newest.
    expect(screen.getByTestId('gpu-0-chart-memory').getAttribute('data-points')).toBe('451')
    expect(screen.getByTestId('window-15').getAttribute('aria-pressed')).toBe('true')
    await userEvent.click(screen.getByTestId('window-60'))
    expect(screen.getByTestId('gpu-0-chart-memory').getAttribute('data-points')).toBe('1800')
    expect(screen.getByTestId('window-60').getAttribute('aria-pressed')).toBe('true')
  })

  it('notes what the latest sample could not read while the GPUs are there', () => {
    ready([sample(NOW, [gpu(0)], null)], 'could not read CPU, memory and disks: EACCES')
    render(<Component />)
    expect(screen.getByTestId('monitor-warning').textContent).toBe('could not read CPU, memory and disks: EACCES')
    expect(screen.getByTestId('host-disks-none').textContent).toBe('Not read yet.')
  })

  it('lists the host’s disks with their use', () => {
    const withDisk = sample(NOW, [gpu(0)])
    withDisk.host!.disks = [
      { mount: '/', fs: '/dev/nvme0n1p2', type: 'ext4', sizeBytes: 100 * GIB, usedBytes: 25 * GIB, availableBytes: 75 * GIB },
    ]
    // The gateway may answer `cortex: null`, which api.ts's SystemView (an intersection) cannot say.
    useStore.setState({ system: { status: 'ready', data: system as SystemView } })
    ready([withDisk])
    render(<Component />)
    const row = within(screen.getByTestId('host-disks')).getAllByRole('row')[1]!
    expect(row.textContent).toBe('//dev/nvme0n1p2 (ext4)25 GiB100 GiB25 %')
    expect(screen.getByTestId('host').textContent).toContain('AMD EPYC 9654, 192 cores')
    expect(screen.getByTestId('host-memory').textContent).toBe('2 GiB of 8 GiB')
  })
})
