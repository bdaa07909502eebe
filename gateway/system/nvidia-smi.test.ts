import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { appsQueryArgs, gpuQueryArgs, NvidiaSmiParseError, parseAppsQuery, parseGpuQuery } from './nvidia-smi.js'

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test/support/fixtures/nvidia-smi')
const capture = (file: string) => readFileSync(path.join(fixtures, file), 'utf8')
const MiB = 1024 * 1024

describe('nvidia-smi query arguments', () => {
  it('ask for the GPU fields in the order the parser reads them, without header or units', () => {
    expect(gpuQueryArgs()).toEqual([
      '--query-gpu=index,uuid,name,memory.total,memory.used,memory.free,utilization.gpu,temperature.gpu,power.draw,power.limit',
      '--format=csv,noheader,nounits',
    ])
    expect(appsQueryArgs()).toEqual([
      '--query-compute-apps=pid,process_name,used_memory,gpu_uuid',
      '--format=csv,noheader,nounits',
    ])
  })
})

describe('parseGpuQuery', () => {
  it('reads what Cortex’s query printed on an H100 running llama-server', () => {
    expect(parseGpuQuery(capture('h100-cortex-query/query-llama-server.csv'))).toEqual([
      {
        index: 0,
        uuid: 'GPU-5cc11802-2925-d306-8cb2-48ec5728120e',
        name: 'NVIDIA H100 80GB HBM3',
        memoryTotalBytes: 81559 * MiB,
        memoryUsedBytes: 2707 * MiB,
        memoryFreeBytes: 78373 * MiB,
        utilizationPercent: 0,
        temperatureC: 40,
        powerDrawW: 129.44,
        powerLimitW: 700,
      },
    ])
  })

  it.each([
    ['h100-idle', { memoryUsedBytes: 0, utilizationPercent: 0, powerDrawW: 123.19 }],
    ['h100-busy', { memoryUsedBytes: 20085 * MiB, utilizationPercent: 100, temperatureC: 62, powerDrawW: 699.82 }],
    ['h100-llama-server', { memoryUsedBytes: 4863 * MiB, memoryFreeBytes: 76217 * MiB, utilizationPercent: 45 }],
  ])('also reads --format=csv output, header and units included (%s)', (dir, expected) => {
    const [gpu, ...rest] = parseGpuQuery(capture(`${dir}/query.csv`))
    expect(rest).toEqual([])
    expect(gpu).toMatchObject({
      index: 0,
      name: 'NVIDIA H100 80GB HBM3',
      memoryTotalBytes: 81559 * MiB,
      powerLimitW: 700,
      ...expected,
    })
  })

  it('gives null for figures the card does not report, and one sample per GPU', () => {
    const csv = [
      '0, GPU-a, NVIDIA GeForce RTX 4090, 24564, 1203, 22993, 7, 45, 31.20, 450.00',
      '1, GPU-b, Tesla T4, 15360, 0, 14930, [N/A], [Not Supported], [N/A], [Unknown Error]',
      '',
    ].join('\n')
    const [a, b] = parseGpuQuery(csv)
    expect(a).toMatchObject({ index: 0, uuid: 'GPU-a', memoryUsedBytes: 1203 * MiB, utilizationPercent: 7 })
    expect(b).toMatchObject({
      index: 1,
      name: 'Tesla T4',
      utilizationPercent: null,
      temperatureC: null,
      powerDrawW: null,
      powerLimitW: null,
    })
  })

  it('refuses output that is not the query’s, naming the line', () => {
    const failed = "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."
    expect(() => parseGpuQuery(failed)).toThrow(NvidiaSmiParseError)
    expect(() => parseGpuQuery('0, GPU-a, X, lots, 1, 2, 3, 4, 5, 6')).toThrow(/not a number: "lots"/)
  })
})

describe('parseAppsQuery', () => {
  it('reads the llama-server process from Cortex’s query', () => {
    expect(parseAppsQuery(capture('h100-cortex-query/apps-llama-server.csv'))).toEqual([
      {
        pid: 4756,
        processName: '/tmp/cortex-vram/build/bin/llama-server',
        usedMemoryBytes: 2698 * MiB,
        gpuUuid: 'GPU-5cc11802-2925-d306-8cb2-48ec5728120e',
      },
    ])
  })

  it('gives [] when no process holds GPU memory (Cortex’s query prints nothing, --format=csv a header)', () => {
    expect(parseAppsQuery(capture('h100-cortex-query/apps-idle.csv'))).toEqual([])
    expect(parseAppsQuery(capture('h100-idle/apps.csv'))).toEqual([])
  })

  it('reads --format=csv output with units', () => {
    expect(parseAppsQuery(capture('h100-busy/apps.csv'))).toEqual([
      { pid: 402, processName: 'python3', usedMemoryBytes: 20076 * MiB, gpuUuid: 'GPU-afdf3313-9d46-45b0-7d5e-149665d04b3d' },
    ])
  })

  it('keeps a process path that contains commas whole', () => {
    const [p] = parseAppsQuery('77, /opt/a,b/llama-server, 512, GPU-x\n')
    expect(p).toEqual({ pid: 77, processName: '/opt/a,b/llama-server', usedMemoryBytes: 512 * MiB, gpuUuid: 'GPU-x' })
  })

  it('gives null memory where the driver cannot attribute it (e.g. inside a container)', () => {
    expect(parseAppsQuery('77, python3, [N/A], GPU-x')[0]?.usedMemoryBytes).toBeNull()
  })
})
