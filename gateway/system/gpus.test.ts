import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { NvidiaSmiError, readGpuProcesses, readGpus } from './gpus.js'
import { appsQueryArgs, gpuQueryArgs } from './nvidia-smi.js'

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test/support/fixtures/nvidia-smi')
const dir = mkdtempSync(path.join(tmpdir(), 'cortex-nvidia-smi-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** A stand-in nvidia-smi: a shell script that records its arguments and prints a capture or fails. */
function fakeNvidiaSmi(name: string, body: string): string {
  const bin = path.join(dir, name)
  writeFileSync(bin, `#!/bin/sh\necho "$@" > "${bin}.args"\n${body}\n`)
  chmodSync(bin, 0o755)
  return bin
}

describe.skipIf(process.platform === 'win32')('readGpus / readGpuProcesses', () => {
  it('run nvidia-smi with the query arguments and parse what it prints', async () => {
    const q = path.join(fixtures, 'h100-cortex-query')
    const bin = fakeNvidiaSmi(
      'nvidia-smi',
      `case "$1" in --query-gpu=*) cat "${q}/query-llama-server.csv" ;; *) cat "${q}/apps-llama-server.csv" ;; esac`,
    )
    const gpus = await readGpus({ bin })
    expect(readFileSync(`${bin}.args`, 'utf8').trim()).toBe(gpuQueryArgs().join(' '))
    expect(gpus.map((g) => [g.index, g.name, g.memoryUsedBytes])).toEqual([[0, 'NVIDIA H100 80GB HBM3', 2707 * 1024 * 1024]])
    const processes = await readGpuProcesses({ bin })
    expect(readFileSync(`${bin}.args`, 'utf8').trim()).toBe(appsQueryArgs().join(' '))
    expect(processes.map((p) => [p.pid, p.gpuUuid])).toEqual([[4756, gpus[0]!.uuid]])
  })

  it('no nvidia-smi means no GPUs and no processes, not an error', async () => {
    const bin = path.join(dir, 'not-installed', 'nvidia-smi')
    await expect(readGpus({ bin })).resolves.toEqual([])
    await expect(readGpuProcesses({ bin })).resolves.toEqual([])
  })

  it('an nvidia-smi that fails is an error carrying its message', async () => {
    const bin = fakeNvidiaSmi(
      'broken-smi',
      `echo "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."; exit 9`,
    )
    const err = await readGpus({ bin }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(NvidiaSmiError)
    expect((err as Error).message).toMatch(/failed \(9\): NVIDIA-SMI has failed because it couldn't communicate/)
  })

  it('an nvidia-smi that hangs is an error after the timeout', async () => {
    const bin = fakeNvidiaSmi('hung-smi', 'exec sleep 30')
    await expect(readGpus({ bin, timeoutMs: 200 })).rejects.toThrow(/did not answer within 200 ms/)
  })
})
