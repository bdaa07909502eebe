import { describe, expect, it } from 'vitest'
import { createQuitGate, quitSequence, type QuitDeps, type QuitOutcome } from './quit.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** A gateway whose models take `stopMs` each to stop; records what was asked of it, in order. */
function deps(over: Partial<QuitDeps> & { stopMs?: Record<string, number> } = {}) {
  const log: string[] = []
  const shown: string[] = []
  const { stopMs = {}, ...rest } = over
  const d: QuitDeps = {
    mode: 'embed',
    behaviour: 'stop-engines',
    activeModels: async () => [
      { id: 'a', name: 'alpha' },
      { id: 'b', name: 'beta' },
    ],
    stopModel: async (id) => {
      log.push(`stop ${id}`)
      await sleep(stopMs[id] ?? 0)
      log.push(`stopped ${id}`)
    },
    closeConnection: async () => void log.push('close'),
    progress: { show: (t) => void shown.push(t), close: () => void log.push('progress closed') },
    stopDeadlineMs: 1000,
    closeDeadlineMs: 1000,
    progressAfterMs: 50,
    ...rest,
  }
  return { d, log, shown }
}

describe('quitSequence', () => {
  it('embedded with stop-engines: stops every running model, then closes the core', async () => {
    const { d, log, shown } = deps()
    expect(await quitSequence(d)).toEqual({ stopped: ['alpha', 'beta'], problems: [] })
    expect(log).toEqual(['stop a', 'stop b', 'stopped a', 'stopped b', 'close', 'progress closed'])
    expect(shown).toEqual([])
  })

  it('shows progress only when stopping takes a while, naming what is left', async () => {
    const { d, shown } = deps({ stopMs: { a: 100, b: 250 } })
    await quitSequence(d)
    expect(shown).toEqual([
      'Stopping alpha, beta… (0 of 2 stopped; Cortex quits when done)',
      'Stopping beta… (1 of 2 stopped; Cortex quits when done)',
    ])
  })

  it('quits anyway when a stop outlasts its deadline, and says which model', async () => {
    const { d, log } = deps({ stopMs: { b: 10_000 }, stopDeadlineMs: 150 })
    const outcome = await quitSequence(d)
    expect(outcome).toEqual({ stopped: ['alpha'], problems: ['beta did not stop within 150 ms; quitting anyway'] })
    expect(log.at(-2)).toBe('close')
  })

  it('a failed stop is reported and the rest still stop and close', async () => {
    const { d, log } = deps({
      stopModel: async (id) => {
        if (id === 'a') throw new Error('engine gone')
      },
    })
    expect(await quitSequence(d)).toEqual({ stopped: ['beta'], problems: ['stopping alpha failed: engine gone'] })
    expect(log).toEqual(['close', 'progress closed'])
  })

  it('embedded with leave-running: stops nothing and closes (containers are adopted at the next start)', async () => {
    const { d, log } = deps({ behaviour: 'leave-running' })
    expect(await quitSequence(d)).toEqual({ stopped: [], problems: [] })
    expect(log).toEqual(['close', 'progress closed'])
  })

  it('attached: never stops the server’s engines, whatever the setting', async () => {
    const { d, log } = deps({ mode: 'attach', activeModels: () => Promise.reject(new Error('must not be asked')) })
    expect(await quitSequence(d)).toEqual({ stopped: [], problems: [] })
    expect(log).toEqual(['close', 'progress closed'])
  })

  it('a close that hangs or fails is a problem, not a stuck app', async () => {
    const hang = deps({ closeConnection: () => new Promise(() => {}), closeDeadlineMs: 100, behaviour: 'leave-running' })
    expect((await quitSequence(hang.d)).problems).toEqual(['closing the gateway took over 100 ms'])
    const fail = deps({ closeConnection: () => Promise.reject(new Error('EBUSY')), behaviour: 'leave-running' })
    expect((await quitSequence(fail.d)).problems).toEqual(['closing the gateway failed: EBUSY'])
    expect(fail.log).toEqual(['progress closed'])
  })

  it('a progress window that fails (closed by the person) neither stops the quit nor keeps the core open', async () => {
    const broken = () => {
      throw new TypeError('Object has been destroyed')
    }
    const { d, log } = deps({ stopMs: { a: 100 }, progress: { show: broken, close: broken } })
    expect(await quitSequence(d)).toEqual({
      stopped: ['beta', 'alpha'],
      problems: [
        'the progress window failed: Object has been destroyed',
        'the progress window failed: Object has been destroyed',
      ],
    })
    expect(log.at(-1)).toBe('close')
  })
})

describe('createQuitGate', () => {
  /** Electron's before-quit as the app sees it: each app.quit() emits it; a prevented one quits nothing. */
  function app(run: () => Promise<QuitOutcome>) {
    const log: string[] = []
    const emit = () => {
      let prevented = false
      gate.beforeQuit({ preventDefault: () => void (prevented = true) })
      if (!prevented) log.push('quit')
    }
    const gate = createQuitGate({
      run: async () => {
        log.push('sequence')
        return run()
      },
      quit: emit,
      install: () => void log.push('install'),
      report: (problems) => void log.push(`report ${problems.join('; ')}`),
      installGraceMs: 20,
    })
    return { gate, log, emit }
  }

  it('holds the first quit for the sequence, joins quits asked meanwhile, then quits once', async () => {
    let end!: (o: QuitOutcome) => void
    const { gate, log, emit } = app(() => new Promise((r) => (end = r)))
    expect(gate.quitting()).toBe(false)
    emit()
    emit()
    expect(gate.quitting()).toBe(true)
    expect(log).toEqual(['sequence'])
    end({ stopped: [], problems: [] })
    await expect.poll(() => log).toEqual(['sequence', 'quit'])
  })

  it('quits even when the sequence fails, and reports why', async () => {
    const { log, emit } = app(() => Promise.reject(new Error('boom')))
    emit()
    await expect.poll(() => log).toEqual(['sequence', 'report the quit sequence failed: boom', 'quit'])
  })

  it('installs the update only after the sequence, and quits if the updater does not', async () => {
    const { gate, log, emit } = app(async () => ({ stopped: [], problems: ['x did not stop'] }))
    gate.installAfterQuit()
    emit()
    await expect.poll(() => log).toEqual(['sequence', 'report x did not stop', 'install', 'quit'])
  })
})
