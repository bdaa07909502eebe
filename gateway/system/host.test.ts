import { describe, expect, it } from 'vitest'
import { distinctFilesystems, readHost, readHostInfo } from './host.js'

describe('readHostInfo / readHost on this machine (real systeminformation)', () => {
  it('read the CPU, its cores and the total memory', async () => {
    const info = await readHostInfo()
    expect(info.cpu.model).not.toBe('')
    expect(info.cpu.cores).toBeGreaterThanOrEqual(1)
    expect(info.cpu.physicalCores).toBeGreaterThanOrEqual(1)
    expect(info.cpu.physicalCores).toBeLessThanOrEqual(info.cpu.cores)
    expect(info.memoryTotalBytes).toBeGreaterThan(256 * 1024 * 1024)
  })

  it('read CPU load, memory in use and the mounted disks, each figure in range', async () => {
    const { cpuLoadPercent, memory, disks } = await readHost()
    expect(cpuLoadPercent).toBeGreaterThanOrEqual(0)
    expect(cpuLoadPercent).toBeLessThanOrEqual(100)
    expect(memory.usedBytes).toBeGreaterThan(0)
    expect(memory.usedBytes).toBeLessThan(memory.totalBytes)
    expect(memory.availableBytes).toBeLessThan(memory.totalBytes)
    expect(disks.length).toBeGreaterThanOrEqual(1)
    for (const d of disks) {
      expect(d.sizeBytes).toBeGreaterThan(0)
      expect(d.usedBytes).toBeLessThanOrEqual(d.sizeBytes)
      expect(d.availableBytes).toBeLessThanOrEqual(d.sizeBytes)
    }
    // The disk this test runs from is one of them, at its root or at a mount above the working directory.
    expect(disks.some((d) => process.cwd().startsWith(d.mount))).toBe(true)
  })
})

describe('distinctFilesystems', () => {
  const disk = (mount: string, fs: string, sizeBytes = 100) => ({
    mount,
    fs,
    type: 'ext4',
    sizeBytes,
    usedBytes: 10,
    availableBytes: 90,
  })

  it('keeps each filesystem once, at its shortest mount, and leaves out empty ones', () => {
    expect(
      distinctFilesystems([
        disk('/etc/hosts', '/dev/vda'),
        disk('/', 'overlay'),
        disk('/etc/hostname', '/dev/vda'),
        disk('/data', '/dev/vda'),
        disk('/boot/efi', '/dev/nvme0n1p1'),
        disk('/proc/empty', 'none', 0),
      ]).map((d) => [d.mount, d.fs]),
    ).toEqual([
      ['/', 'overlay'],
      ['/boot/efi', '/dev/nvme0n1p1'],
      ['/data', '/dev/vda'],
    ])
  })
})
