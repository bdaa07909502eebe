import { execFile } from 'node:child_process'
import { appsQueryArgs, gpuQueryArgs, parseAppsQuery, parseGpuQuery, type GpuProcess, type GpuSample } from './nvidia-smi.js'

export interface NvidiaSmiOptions {
  /** The nvidia-smi binary; default `nvidia-smi` from PATH. */
  bin?: string
  /** A wedged GPU can hang nvidia-smi for minutes; default 10 s. */
  timeoutMs?: number
}

/** nvidia-smi is installed but did not answer: a driver problem a person has to look at. */
export class NvidiaSmiError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(message)
    this.name = 'NvidiaSmiError'
  }
}

/** stdout of nvidia-smi, or null when there is no nvidia-smi to run. */
function run(args: string[], { bin = 'nvidia-smi', timeoutMs = 10_000 }: NvidiaSmiOptions): Promise<string | null> {
  return new Promise((resolve, reject) => {
    execFile(bin, args, { timeout: timeoutMs, windowsHide: true }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout)
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return resolve(null)
      const why = err.killed ? `did not answer within ${timeoutMs} ms` : `failed (${err.code ?? err.signal})`
      // nvidia-smi prints its reason ("couldn't communicate with the NVIDIA driver") on stdout.
      const said = `${stdout}${stderr}`.trim()
      reject(new NvidiaSmiError(`${bin} ${why}${said ? `: ${said.split('\n')[0]}` : ''}`, said))
    })
  })
}

/** One sample of every NVIDIA GPU. No nvidia-smi means no GPUs: []. */
export async function readGpus(options: NvidiaSmiOptions = {}): Promise<GpuSample[]> {
  const out = await run(gpuQueryArgs(), options)
  return out === null ? [] : parseGpuQuery(out)
}

/** The processes holding GPU memory. No nvidia-smi means none: []. */
export async function readGpuProcesses(options: NvidiaSmiOptions = {}): Promise<GpuProcess[]> {
  const out = await run(appsQueryArgs(), options)
  return out === null ? [] : parseAppsQuery(out)
}
