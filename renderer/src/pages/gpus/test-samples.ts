/** Monitor samples for the GPU screen's tests. */
import type { GpuSample } from '../../../../gateway/contract/index.js'
import type { MonitorSample } from '../../store/slices.js'

export const MIB = 1024 ** 2
export const GIB = 1024 ** 3

/** One H100 reading, as the stand-in's busy capture has it, changed by `over`. */
export function gpu(index: number, over: Partial<GpuSample> = {}): GpuSample {
  return {
    index,
    uuid: `GPU-${index}`,
    name: 'NVIDIA H100 80GB HBM3',
    memoryTotalBytes: 81559 * MIB,
    memoryUsedBytes: 2707 * MIB,
    memoryFreeBytes: 78373 * MIB,
    utilizationPercent: 0,
    temperatureC: 40,
    powerDrawW: 129.44,
    powerLimitW: 700,
    processes: [],
    ...over,
  }
}

/** A monitor tick; `cpu: null` for one taken while nobody watched (no host figures). */
export const sample = (at: number, gpus: GpuSample[], cpu: number | null = 10): MonitorSample => ({
  at,
  gpus,
  host:
    cpu === null
      ? null
      : { cpuLoadPercent: cpu, memory: { totalBytes: 8 * GIB, usedBytes: 2 * GIB, availableBytes: 6 * GIB }, disks: [] },
})
