import { cleanup } from '@testing-library/react'
import { afterEach, vi } from 'vitest'
import { stopEvents } from '../store/events.js'
import { stopLogs } from '../store/logs.js'
import { resetStore } from '../store/index.js'

// Each test starts from an empty store, with no stream left open and no fetch stub left over.
afterEach(() => {
  cleanup()
  stopEvents()
  stopLogs()
  resetStore()
  vi.unstubAllGlobals()
  vi.useRealTimers()
})
