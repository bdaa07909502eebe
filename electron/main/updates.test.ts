import { describe, expect, it } from 'vitest'
import { createUpdateFlow, type UpdateState, type Updater } from './updates.js'

function fakeUpdater(offer: string | null, fail: { check?: Error; download?: Error } = {}) {
  const calls: string[] = []
  let release: () => void = () => {}
  const updater: Updater = {
    check: async () => {
      calls.push('check')
      await new Promise<void>((r) => (release = r))
      if (fail.check) throw fail.check
      return offer
    },
    download: async () => {
      calls.push('download')
      if (fail.download) throw fail.download
    },
    install: () => void calls.push('install'),
  }
  return { updater, calls, release: () => release() }
}

function flowWith(updater: Updater | null) {
  const states: UpdateState[] = []
  const flow = createUpdateFlow({ updater, disabledReason: 'not packaged', onState: (s) => states.push(s), now: () => 42 })
  return { flow, states }
}

describe('update flow', () => {
  it('is disabled with its reason where there is no updater, and install says why it cannot', async () => {
    const { flow, states } = flowWith(null)
    expect(await flow.check()).toEqual({ phase: 'disabled', reason: 'not packaged' })
    expect(() => flow.install()).toThrow('no update is downloaded to install (the update is disabled)')
    expect(states).toEqual([])
  })

  it('checks, downloads when asked, then installs', async () => {
    const fake = fakeUpdater('1.2.0')
    const { flow, states } = flowWith(fake.updater)
    const first = flow.check()
    const joined = flow.check()
    fake.release()
    expect(await first).toEqual({ phase: 'available', version: '1.2.0' })
    expect(await joined).toBe(await first)
    expect(fake.calls).toEqual(['check'])
    expect(await flow.download()).toEqual({ phase: 'ready', version: '1.2.0' })
    flow.install()
    expect(fake.calls).toEqual(['check', 'download', 'install'])
    expect(states.map((s) => s.phase)).toEqual(['checking', 'available', 'downloading', 'ready'])
  })

  it('says up to date when the feed has nothing newer; download then does nothing', async () => {
    const fake = fakeUpdater(null)
    const { flow } = flowWith(fake.updater)
    const checked = flow.check()
    fake.release()
    expect(await checked).toEqual({ phase: 'up-to-date', checkedAt: 42 })
    expect(await flow.download()).toEqual({ phase: 'up-to-date', checkedAt: 42 })
    expect(fake.calls).toEqual(['check'])
  })

  it('a failed check or download is a state with the reason, and a later check can succeed', async () => {
    const broken = fakeUpdater(null, { check: new Error('net::ERR_NAME_NOT_RESOLVED') })
    const a = flowWith(broken.updater)
    const checked = a.flow.check()
    broken.release()
    expect(await checked).toEqual({ phase: 'failed', message: 'checking for updates failed: net::ERR_NAME_NOT_RESOLVED' })

    const noDisk = fakeUpdater('2.0.0', { download: new Error('ENOSPC') })
    const b = flowWith(noDisk.updater)
    const found = b.flow.check()
    noDisk.release()
    await found
    expect(await b.flow.download()).toEqual({ phase: 'failed', message: 'downloading 2.0.0 failed: ENOSPC' })
  })

  it('a check after the download keeps the downloaded update', async () => {
    const fake = fakeUpdater('1.2.0')
    const { flow } = flowWith(fake.updater)
    const checked = flow.check()
    fake.release()
    await checked
    await flow.download()
    expect(await flow.check()).toEqual({ phase: 'ready', version: '1.2.0' })
    expect(fake.calls).toEqual(['check', 'download'])
  })
})
