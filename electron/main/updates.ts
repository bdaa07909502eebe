/**
 * The update flow behind an interface (issue 13): electron-updater in the app (updater.ts adapts it), a fake in
 * tests. The publisher fills in `publish` in electron-builder.yml; until then a packaged app has no feed and the flow
 * says so instead of failing at every check. Updates download only when asked and install at the next quit.
 */

export interface Updater {
  /** The newer version the feed offers, or null when this one is the newest. */
  check(): Promise<string | null>
  download(): Promise<void>
  /** Quits and installs the downloaded update. */
  install(): void
}

export type UpdateState =
  | { phase: 'disabled'; reason: string }
  | { phase: 'idle' }
  | { phase: 'checking' }
  | { phase: 'up-to-date'; checkedAt: number }
  | { phase: 'available'; version: string }
  | { phase: 'downloading'; version: string }
  | { phase: 'ready'; version: string }
  | { phase: 'failed'; message: string }

export interface UpdateFlowOptions {
  /** null when updates cannot work here, with why (not packaged, no feed configured). */
  updater: Updater | null
  disabledReason: string
  onState(state: UpdateState): void
  now?: () => number
}

export interface UpdateFlow {
  state(): UpdateState
  /** Asks the feed; concurrent calls share one check. */
  check(): Promise<UpdateState>
  /** Downloads the version `check` found. */
  download(): Promise<UpdateState>
  /** Only once downloaded: quits and installs. */
  install(): void
}

export function createUpdateFlow(options: UpdateFlowOptions): UpdateFlow {
  const { updater, onState, now = Date.now } = options
  let state: UpdateState = updater === null ? { phase: 'disabled', reason: options.disabledReason } : { phase: 'idle' }
  let checking: Promise<UpdateState> | null = null
  const set = (next: UpdateState) => {
    state = next
    onState(next)
    return next
  }
  const failed = (doing: string, err: unknown) =>
    set({ phase: 'failed', message: `${doing} failed: ${err instanceof Error ? err.message : String(err)}` })

  return {
    state: () => state,
    check: () => {
      if (updater === null) return Promise.resolve(state)
      // A download in progress or done is not thrown away by a later check.
      if (state.phase === 'downloading' || state.phase === 'ready') return Promise.resolve(state)
      checking ??= (async () => {
        set({ phase: 'checking' })
        try {
          const version = await updater.check()
          return set(version === null ? { phase: 'up-to-date', checkedAt: now() } : { phase: 'available', version })
        } catch (err) {
          return failed('checking for updates', err)
        } finally {
          checking = null
        }
      })()
      return checking
    },
    download: async () => {
      if (updater === null || state.phase !== 'available') return state
      const { version } = state
      set({ phase: 'downloading', version })
      try {
        await updater.download()
        return set({ phase: 'ready', version })
      } catch (err) {
        return failed(`downloading ${version}`, err)
      }
    },
    install: () => {
      if (updater === null || state.phase !== 'ready') {
        throw new Error(`no update is downloaded to install (the update is ${state.phase})`)
      }
      updater.install()
    },
  }
}
