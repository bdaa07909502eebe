import type { DiskSample, HostInfo, HostSample } from '../contract/index.js'

/** Loaded on the first read (a console or `/system` asking), not at start-up: an idle gateway has no use for it. */
const systeminformation = () => import('systeminformation')

/** CPU model and cores, total memory: read once (systeminformation; GPUs come from nvidia-smi, see gpus.ts). */
export async function readHostInfo(): Promise<HostInfo> {
  const { cpu, mem } = await systeminformation()
  const [c, m] = await Promise.all([cpu(), mem()])
  return {
    cpu: { model: `${c.manufacturer} ${c.brand}`.trim(), cores: c.cores, physicalCores: c.physicalCores },
    memoryTotalBytes: m.total,
  }
}

/** CPU load, memory and disks now. */
export async function readHost(): Promise<HostSample> {
  const { currentLoad, fsSize, mem } = await systeminformation()
  const [load, m, disks] = await Promise.all([currentLoad(), mem(), fsSize()])
  return {
    cpuLoadPercent: Number.isFinite(load.currentLoad) ? load.currentLoad : null,
    // systeminformation's `used` counts the page cache; `active` is total − available, what people mean by used.
    memory: { totalBytes: m.total, usedBytes: m.active, availableBytes: m.available },
    disks: distinctFilesystems(
      disks.map((d) => ({
        mount: d.mount,
        fs: d.fs,
        type: d.type,
        sizeBytes: d.size,
        usedBytes: d.used,
        availableBytes: d.available,
      })),
    ),
  }
}

/**
 * One entry per filesystem, at its shortest mount point: bind mounts (Docker's /etc/hosts inside a container, btrfs
 * subvolumes) repeat the same device's figures under other paths. Empty pseudo filesystems are left out.
 */
export function distinctFilesystems(disks: DiskSample[]): DiskSample[] {
  const byFs = new Map<string, DiskSample>()
  for (const d of disks) {
    if (!(d.sizeBytes > 0)) continue
    const seen = byFs.get(d.fs)
    if (!seen || d.mount.length < seen.mount.length) byFs.set(d.fs, d)
  }
  return [...byFs.values()].sort((a, b) => a.mount.localeCompare(b.mount))
}
