import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { migrate } from './migrations.js'
import { createPidRepo } from './pids.js'

let dir: string
let db: Database.Database
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cortex-pids-'))
  db = new Database(path.join(dir, 'cortex.db'))
  migrate(db, { dataDir: dir, now: Date.now })
})
afterEach(() => {
  db.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

describe('PidRepo', () => {
  const rec = (pid: number, startedAt: number, command = ['/usr/bin/llama-server', '-m', '/m.gguf', '--port', '4100']) => ({
    pid,
    modelId: 'm_abc',
    replica: 0,
    command,
    startedAt,
  })

  it('records engine processes with their command lines, oldest first', () => {
    const pids = createPidRepo(db)
    pids.add(rec(200, 2))
    pids.add(rec(100, 1))
    expect(pids.list()).toEqual([rec(100, 1), rec(200, 2)])
    expect(createPidRepo(db).list()).toHaveLength(2)
  })

  it('forgets a process when it is removed', () => {
    const pids = createPidRepo(db)
    pids.add(rec(100, 1))
    pids.add(rec(200, 2))
    pids.remove(100)
    pids.remove(999)
    expect(pids.list()).toEqual([rec(200, 2)])
  })

  it('replaces the record of a pid the OS reused', () => {
    const pids = createPidRepo(db)
    pids.add(rec(100, 1))
    pids.add(rec(100, 5, ['/usr/bin/vllm', 'serve']))
    expect(pids.list()).toEqual([rec(100, 5, ['/usr/bin/vllm', 'serve'])])
  })
})
