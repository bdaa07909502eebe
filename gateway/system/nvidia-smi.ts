/**
 * nvidia-smi's machine-readable queries: the arguments to run and parsers for their CSV. Pure. Cortex runs the
 * queries with `--format=csv,noheader,nounits`; the parsers also take `--format=csv` output (a header line and
 * units after the numbers), which is what the captures in test/support/fixtures/nvidia-smi/ partly are.
 */

import type { GpuSample as ContractGpuSample } from '../contract/index.js'

const MiB = 1024 * 1024

export const GPU_QUERY_FIELDS = [
  'index',
  'uuid',
  'name',
  'memory.total',
  'memory.used',
  'memory.free',
  'utilization.gpu',
  'temperature.gpu',
  'power.draw',
  'power.limit',
] as const

export const APPS_QUERY_FIELDS = ['pid', 'process_name', 'used_memory', 'gpu_uuid'] as const

const FORMAT = '--format=csv,noheader,nounits'

/** `nvidia-smi` arguments for one sample of every GPU (GPU_QUERY_FIELDS, in that order). */
export function gpuQueryArgs(): string[] {
  return [`--query-gpu=${GPU_QUERY_FIELDS.join(',')}`, FORMAT]
}

/** `nvidia-smi` arguments for the processes holding GPU memory (APPS_QUERY_FIELDS, in that order). */
export function appsQueryArgs(): string[] {
  return [`--query-compute-apps=${APPS_QUERY_FIELDS.join(',')}`, FORMAT]
}

/** One reading of one GPU, before its processes are joined in; a figure nvidia-smi cannot give (`[N/A]`,
 *  `[Not Supported]`) is null. */
export type GpuSample = Omit<ContractGpuSample, 'processes'>

/** A process holding memory on a GPU. */
export interface GpuProcess {
  pid: number
  processName: string
  usedMemoryBytes: number | null
  gpuUuid: string
}

/** Output that is not what the query asks for (a changed nvidia-smi, an error message on stdout). */
export class NvidiaSmiParseError extends Error {
  constructor(
    message: string,
    readonly line: string,
  ) {
    super(`${message}: "${line}"`)
    this.name = 'NvidiaSmiParseError'
  }
}

// `[N/A]`, `[Not Supported]`, `[Unknown Error]`, `[Insufficient Permissions]` and the like.
const UNAVAILABLE = /^\[.*\]$|^N\/A$/

/** A number, with `--format=csv`'s unit after it or not; null when nvidia-smi has none. */
function figure(field: string, line: string): number | null {
  if (UNAVAILABLE.test(field)) return null
  const m = /^(-?\d+(?:\.\d+)?)(?: (?:MiB|%|W|C))?$/.exec(field)
  if (!m) throw new NvidiaSmiParseError(`not a number: "${field}"`, line)
  return Number(m[1])
}

const bytes = (mib: number | null) => (mib === null ? null : mib * MiB)

// The data lines: blank lines and `--format=csv`'s header (it starts with the first field's name) left out.
function rows(csv: string, firstField: string): Array<{ line: string; fields: string[] }> {
  return csv
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '' && !line.startsWith(`${firstField},`))
    .map((line) => ({ line, fields: line.split(',').map((f) => f.trim()) }))
}

/** Parses the output of `nvidia-smi` run with gpuQueryArgs(). */
export function parseGpuQuery(csv: string): GpuSample[] {
  return rows(csv, 'index').map(({ line, fields }) => {
    if (fields.length !== GPU_QUERY_FIELDS.length) {
      throw new NvidiaSmiParseError(`expected ${GPU_QUERY_FIELDS.length} fields, got ${fields.length}`, line)
    }
    const [index, uuid, name, total, used, free, util, temp, draw, limit] = fields as [string, ...string[]]
    const at = figure(index, line)
    if (at === null) throw new NvidiaSmiParseError('a GPU without an index', line)
    return {
      index: at,
      uuid: uuid!,
      name: name!,
      memoryTotalBytes: bytes(figure(total!, line)),
      memoryUsedBytes: bytes(figure(used!, line)),
      memoryFreeBytes: bytes(figure(free!, line)),
      utilizationPercent: figure(util!, line),
      temperatureC: figure(temp!, line),
      powerDrawW: figure(draw!, line),
      powerLimitW: figure(limit!, line),
    }
  })
}

/** Parses the output of `nvidia-smi` run with appsQueryArgs(); no process holding memory gives []. */
export function parseAppsQuery(csv: string): GpuProcess[] {
  return rows(csv, 'pid').map(({ line, fields }) => {
    if (fields.length < APPS_QUERY_FIELDS.length) {
      throw new NvidiaSmiParseError(`expected ${APPS_QUERY_FIELDS.length} fields, got ${fields.length}`, line)
    }
    // nvidia-smi does not quote fields: a process path with commas splits, so pid is first and the rest count from the end.
    const pid = figure(fields[0]!, line)
    if (pid === null) throw new NvidiaSmiParseError('a process without a pid', line)
    return {
      pid,
      processName: line.split(',').slice(1, -2).join(',').trim(),
      usedMemoryBytes: bytes(figure(fields.at(-2)!, line)),
      gpuUuid: fields.at(-1)!,
    }
  })
}
