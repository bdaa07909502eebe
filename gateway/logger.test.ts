import { describe, expect, it } from 'vitest'
import { readableLine } from './logger.js'

describe('readableLine', () => {
  const time = new Date(2026, 11, 7, 14, 2, 11).getTime()
  it.each([
    [
      {
        level: 30,
        time,
        name: 'cortex',
        reqId: 'r1',
        msg: 'request',
        method: 'POST',
        url: '/v1/chat/completions',
        status: 200,
        ms: 41.2,
        model: 'qwen',
        key: 'ci',
      },
      '14:02:11 info  POST /v1/chat/completions 200 41.2ms model=qwen key=ci',
    ],
    [
      { level: 30, time, name: 'cortex', msg: 'request', method: 'GET', url: '/v1/models', status: 401, ms: 0.4 },
      '14:02:11 info  GET /v1/models 401 0.4ms',
    ],
    [
      { level: 40, time, name: 'cortex', msg: 'Redis for limits is unreachable', err: 'connect ECONNREFUSED' },
      '14:02:11 WARN  Redis for limits is unreachable err="connect ECONNREFUSED"',
    ],
    [
      { level: 30, time, msg: 'database migrated', from: 0, to: 3, backup: null },
      '14:02:11 info  database migrated from=0 to=3 backup=null',
    ],
  ])('%j', (entry, expected) => {
    expect(readableLine(JSON.stringify(entry))).toBe(expected)
  })

  it('passes a line that is not JSON as it is', () => {
    expect(readableLine('plain text')).toBe('plain text')
  })
})
