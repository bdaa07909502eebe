import { spawn } from 'node:child_process'
import { constants } from 'node:fs'
import { access } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import type { Logger } from 'pino'
import type { ModelDefinition } from '../../contract/index.js'
import type { PidRepo } from '../../store/types.js'
import { llamacppPlan } from '../backends/llamacpp.js'
import type { ProcessPlan } from '../backends/plan.js'
import { vllmPlan } from '../backends/vllm.js'
import { diagnoseBinaryMissing, diagnoseModelFile, diagnoseSpawnError } from '../diagnose.js'
import { StartFailure, type Driver, type DriverHandle, type ExitInfo, type StartContext } from '../driver.js'
import { probeEngineHealth, readLlamaContextLength } from '../health.js'
import { findExecutable, freePort } from './os.js'

export interface ProcessDriverOptions {
  def: ModelDefinition
  pids: PidRepo
  logger: Logger
  /** `engines.llamaServer` (or CORTEX_LLAMA_SERVER); null = look up `llama-server` on PATH at each start. */
  llamaServer: string | null
}

/** Native llama-server / `vllm serve` processes on a free loopback port, recorded in the PID table while alive. */
export function createProcessDriver(opts: ProcessDriverOptions): Driver {
  const { def } = opts
  const isLlama = def.engine === 'llamacpp'
  return {
    runningCheckMs: null,
    probe: probeEngineHealth,
    contextLength: isLlama ? readLlamaContextLength : undefined,
    async start(ctx) {
      const binary = await findExecutable(isLlama ? (opts.llamaServer ?? 'llama-server') : 'vllm')
      if (!binary) throw new StartFailure(diagnoseBinaryMissing(def, isLlama ? opts.llamaServer : null))
      if (isLlama && def.source) {
        try {
          await access(def.source, constants.R_OK)
        } catch (err) {
          throw new StartFailure(diagnoseModelFile(def, (err as NodeJS.ErrnoException).code))
        }
      }
      const port = await freePort()
      const plan = isLlama ? llamacppPlan(def, port, binary) : vllmPlan(def, port, binary)
      return spawnPlan(plan, port, ctx, opts)
    },
  }
}

/** After an engine exited, how long its log may take to end before the exit is reported anyway. */
const CLOSE_WAIT_MS = 2000

/** PIDs (each its process group's id: spawned detached) of the engines of this process still running. */
const live = new Set<number>()
let exitHookInstalled = false

/** However Cortex exits (a second Ctrl-C's process.exit, a crash), no engine it started may outlive it: each runs in
 *  its own process group, which the terminal's signals do not reach. Only synchronous calls work in 'exit'. */
function onProcessExit(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on('exit', () => {
    for (const pid of live) killGroup(pid)
  })
}

/** SIGKILL to the engine's process group (Windows has none: the process itself). ESRCH is nothing left to kill. */
function killGroup(pid: number, logger?: Logger): void {
  try {
    process.kill(process.platform === 'win32' ? pid : -pid, 'SIGKILL')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') logger?.warn({ err, pid }, 'could not kill the engine process group')
  }
}

async function spawnPlan(plan: ProcessPlan, port: number, ctx: StartContext, opts: ProcessDriverOptions): Promise<DriverHandle> {
  const child = spawn(plan.command, plan.args, {
    env: { ...process.env, ...plan.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: a terminal's Ctrl-C signals the whole foreground group, and the engine must keep
    // serving in-flight requests while Cortex drains them, then stop when Cortex says so.
    detached: true,
    shell: false,
  })
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve)
      child.once('error', reject)
    })
  } catch (err) {
    throw new StartFailure(diagnoseSpawnError(opts.def, plan.command, (err as Error).message))
  }
  const pid = child.pid!
  live.add(pid)
  onProcessExit()
  for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream, crlfDelay: Infinity }).on('line', ctx.log)

  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(pid)
      // Workers the engine started in its group (vLLM's) are no use without it, and may hold GPU memory. The group
      // id stays taken while a member lives; with none left it finds nothing (PIDs cycle before reuse; not Windows').
      if (process.platform !== 'win32') killGroup(pid, opts.logger)
      try {
        opts.pids.remove(pid)
      } catch (err) {
        opts.logger.error({ err, pid }, 'could not remove the engine process record')
      }
      // 'close' comes once stdout/stderr have ended, so the log holds the engine's last words when the exit is
      // diagnosed; bounded, since a process that outlived the group kill (it left the group) may hold the pipes.
      const closeWait = setTimeout(() => resolve({ code, signal }), CLOSE_WAIT_MS)
      child.once('close', () => {
        clearTimeout(closeWait)
        resolve({ code, signal })
      })
    })
  })
  child.on('error', (err) => opts.logger.error({ err, pid }, 'engine process error'))

  try {
    opts.pids.add({
      pid,
      modelId: opts.def.id,
      replica: ctx.replica,
      command: [plan.command, ...plan.args],
      startedAt: Date.now(),
    })
  } catch (err) {
    // An unrecorded process could not be reaped after a crash of Cortex: do not keep it.
    child.kill('SIGKILL')
    await exited
    throw err
  }
  opts.logger.info({ model: opts.def.name, replica: ctx.replica, pid, port }, 'engine process started')

  return {
    url: `http://127.0.0.1:${port}`,
    pid,
    exited,
    async stop(graceMs) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM')
        const force = setTimeout(() => killGroup(pid, opts.logger), graceMs)
        await exited
        clearTimeout(force)
      }
      await exited
    },
  }
}
