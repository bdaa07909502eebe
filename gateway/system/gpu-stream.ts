import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import type { Logger } from 'pino'
import { gpuQueryArgs, parseGpuQuery, type GpuSample } from './nvidia-smi.js'

/**
 * One long-lived `nvidia-smi --query-gpu=… -lms <interval>`: a line per GPU every interval, for as long as Cortex
 * runs. One process costs far less than a spawn per sample (nvidia-smi takes ~50 ms of CPU to start and open the
 * driver), so GPU figures can be kept for an hour while nobody looks.
 */
export interface GpuStream {
  /** Stops nvidia-smi (and any restart waiting its turn); resolves once the process is gone. */
  stop(): Promise<void>
}

export interface GpuStreamOptions {
  /** The nvidia-smi binary, found on PATH by the caller: no binary, no stream. */
  bin: string
  intervalMs: number
  /** Every GPU's figures of one tick, with when its first line arrived. */
  onTick(at: number, gpus: GpuSample[]): void
  /** nvidia-smi died or printed what the query does not give; it is restarted after `retryInMs`. */
  onError(message: string, retryInMs: number): void
  logger: Logger
  /** First restart delay, doubled after each death without a tick between, up to `maxBackoffMs` (1 s, 60 s). */
  backoffMs?: number
  maxBackoffMs?: number
}

/**
 * Lines of one tick arrive together; a tick ends when a GPU index repeats (the next tick began) or when no line came
 * for a quarter of the interval (nvidia-smi printed the last GPU and waits). Pure apart from the timer it is given.
 */
export class TickAssembler {
  private gpus: GpuSample[] = []
  private at = 0

  constructor(
    private readonly emit: (at: number, gpus: GpuSample[]) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one CSV line; throws NvidiaSmiParseError for a line that is not the query's. */
  line(text: string): void {
    const parsed = parseGpuQuery(text)
    for (const gpu of parsed) {
      if (this.gpus.some((g) => g.index === gpu.index)) this.flush()
      if (this.gpus.length === 0) this.at = this.now()
      this.gpus.push(gpu)
    }
  }

  /** Ends the tick under way, if any. */
  flush(): void {
    if (this.gpus.length === 0) return
    const gpus = this.gpus
    this.gpus = []
    this.emit(this.at, gpus)
  }
}

export function startGpuStream(o: GpuStreamOptions): GpuStream {
  const backoffMs = o.backoffMs ?? 1000
  const maxBackoffMs = o.maxBackoffMs ?? 60_000
  let delay = backoffMs
  let child: ChildProcess | undefined
  let exited: Promise<void> = Promise.resolve()
  let restart: NodeJS.Timeout | undefined
  let stopped = false

  const run = () => {
    restart = undefined
    let problem: string | null = null
    let quiet: NodeJS.Timeout | undefined
    const ticks = new TickAssembler((at, gpus) => {
      delay = backoffMs // a tick came through: the next death starts the backoff afresh
      o.onTick(at, gpus)
    })
    const proc = spawn(o.bin, [...gpuQueryArgs(), `-lms`, String(o.intervalMs)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
    })
    child = proc
    let stderr = ''
    proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-2000)))
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      if (line.trim() === '' || problem !== null) return
      clearTimeout(quiet)
      try {
        ticks.line(line)
      } catch (err) {
        // An error message on stdout ("Unable to determine the device handle…"): this run is no good, start again.
        problem = `nvidia-smi printed what the GPU query does not give: ${(err as Error).message}`
        proc.kill('SIGTERM')
        return
      }
      quiet = setTimeout(() => ticks.flush(), Math.max(50, o.intervalMs / 4))
      quiet.unref()
    })
    exited = new Promise<void>((resolve) => {
      let over = false
      // 'error' (it could not be spawned) and 'exit' may both come: the first decides.
      const done = (why: string) => {
        if (over) return
        over = true
        clearTimeout(quiet)
        if (child === proc) child = undefined
        resolve()
        if (stopped) return
        const said = stderr.trim().split('\n').at(-1)
        const message = problem ?? `${o.bin} ${why}${said ? `: ${said}` : ''}`
        o.logger.warn({ retryInMs: delay }, message)
        o.onError(message, delay)
        restart = setTimeout(run, delay)
        restart.unref()
        delay = Math.min(delay * 2, maxBackoffMs)
      }
      proc.once('error', (err) => done(`could not be started (${err.message})`))
      proc.once('exit', (code, signal) => done(`stopped (${signal ?? `exit ${code}`})`))
    })
  }
  run()

  return {
    async stop() {
      stopped = true
      clearTimeout(restart)
      const proc = child
      if (!proc) return exited
      proc.kill('SIGTERM')
      // A wedged driver can keep nvidia-smi from handling the signal: the close must not hang on it.
      const kill = setTimeout(() => proc.kill('SIGKILL'), 2000)
      await exited
      clearTimeout(kill)
    },
  }
}
