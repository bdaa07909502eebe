import type { CortexInfo } from './console.js'

/**
 * The machine Cortex runs on, as `GET /admin/api/gpus`, `GET /admin/api/system` and the `gpu_sample` event show it.
 * GPU figures come from nvidia-smi, the rest from systeminformation. A figure that cannot be read is null, never 0.
 */

/** The Cortex model a process serves. */
export interface ModelRef {
  id: string
  name: string
}

/** What does not change while Cortex runs: read once. */
export interface GpuInfo {
  index: number
  uuid: string
  name: string
  memoryTotalBytes: number | null
}

/** A process holding memory on a GPU. */
export interface GpuProcessSample {
  pid: number
  /** As nvidia-smi names it: usually the executable's path. */
  processName: string
  usedBytes: number | null
  /** The model whose engine this process is (or is part of); null for anything else on the GPU. */
  model: ModelRef | null
}

/** One reading of one GPU. */
export interface GpuSample extends GpuInfo {
  memoryUsedBytes: number | null
  memoryFreeBytes: number | null
  utilizationPercent: number | null
  temperatureC: number | null
  powerDrawW: number | null
  powerLimitW: number | null
  /** null when nvidia-smi could not list them (the sample's `error` says why), or in history taken while nobody
   *  watched (only the GPUs' figures are read then). */
  processes: GpuProcessSample[] | null
}

export interface CpuInfo {
  /** Maker and brand, e.g. "AMD EPYC 9654". */
  model: string
  /** Logical cores. */
  cores: number
  physicalCores: number
}

/** The host's fixed facts: read once. */
export interface HostInfo {
  cpu: CpuInfo
  memoryTotalBytes: number
}

/** The hardware: the host's facts and every GPU nvidia-smi listed at the first reading (none without nvidia-smi). */
export interface SystemSnapshot extends HostInfo {
  gpus: GpuInfo[]
}

/** A mounted filesystem; each filesystem once, at its shortest mount point. */
export interface DiskSample {
  mount: string
  /** The device, e.g. /dev/nvme0n1p2. */
  fs: string
  type: string
  sizeBytes: number
  usedBytes: number
  availableBytes: number
}

/** One reading of CPU, memory and disks. */
export interface HostSample {
  /** All cores together, since the previous reading. */
  cpuLoadPercent: number | null
  /** `used` leaves out what the kernel can give back (page cache): total − available. */
  memory: { totalBytes: number; usedBytes: number; availableBytes: number }
  disks: DiskSample[]
}

/** One tick of the monitor. */
export interface SystemSample {
  /** Epoch ms when the reading began. */
  at: number
  /** Every GPU, or [] when there is no nvidia-smi or it failed (then `error` says so; earlier GPUs are not repeated). */
  gpus: GpuSample[]
  /** null when CPU, memory and disks could not be read (then `error` says why), or in history taken while nobody
   *  watched. */
  host: HostSample | null
  /** What could not be read in this sample, in words; null when everything was. */
  error: string | null
}

/**
 * `GET /admin/api/gpus`: the latest reading; `?history=1` adds the recent ones, oldest first (with nvidia-smi, one
 * every 2 s for the last hour), and `?since=<epoch ms>` only those taken from then on.
 */
export interface GpusResponse {
  data: GpuSample[]
  at: number
  error: string | null
  history?: Array<{ at: number; gpus: GpuSample[] }>
}

/** `GET /admin/api/system`: the hardware and the latest host reading; `?history=1` adds the recent ones, oldest first. */
export interface SystemResponse {
  /** Cortex itself: version, data directory, llama-server found or not, Docker (null where the core gives none). */
  cortex: CortexInfo | null
  snapshot: SystemSnapshot
  host: HostSample | null
  at: number
  error: string | null
  history?: Array<{ at: number; host: HostSample | null }>
}
