import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { LISTEN_FILE, readListening, writeListening } from './listening.js'

let dir: string
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cortex-listen-'))))
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }))

describe('the listen record', () => {
  it('says where this process listens, readable only by its owner, and is removed by its writer', () => {
    const remove = writeListening(dir, 'http://127.0.0.1:40123')
    expect(readListening(dir)).toMatchObject({ pid: process.pid, url: 'http://127.0.0.1:40123' })
    expect(fs.statSync(path.join(dir, LISTEN_FILE)).mode & 0o777).toBe(0o600)
    remove()
    expect(fs.existsSync(path.join(dir, LISTEN_FILE))).toBe(false)
    expect(readListening(dir)).toBeNull()
  })

  it('a record whose process is gone, a broken one, or none at all reads as nobody listening', () => {
    const write = (text: string) => fs.writeFileSync(path.join(dir, LISTEN_FILE), text)
    expect(readListening(dir)).toBeNull()
    write(JSON.stringify({ pid: 2 ** 22 + 12345, url: 'http://127.0.0.1:1', startedAt: 1 }))
    expect(readListening(dir)).toBeNull()
    write('{"pid": ')
    expect(readListening(dir)).toBeNull()
    write(JSON.stringify({ pid: process.pid, url: 'file:///etc/passwd', startedAt: 1 }))
    expect(readListening(dir)).toBeNull()
  })

  it('a writer that is no longer the recorded one leaves the newer record alone', () => {
    const remove = writeListening(dir, 'http://127.0.0.1:1')
    fs.writeFileSync(path.join(dir, LISTEN_FILE), JSON.stringify({ pid: process.ppid, url: 'http://127.0.0.1:2', startedAt: 2 }))
    remove()
    expect(readListening(dir)?.url).toBe('http://127.0.0.1:2')
  })
})
