import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { loadAdminToken, readAdminToken } from './admin-token.js'

let dir: string
let said: string[]
const announce = (message: string) => void said.push(message)
const file = () => path.join(dir, 'admin-token')
const mode = () => fs.statSync(file()).mode & 0o777

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cortex-token-'))
  said = []
})
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }))

describe('loadAdminToken', () => {
  it('uses CORTEX_ADMIN_TOKEN when set, and writes nothing', () => {
    expect(loadAdminToken({ dataDir: dir, env: { CORTEX_ADMIN_TOKEN: ' from-env \n' }, announce })).toBe('from-env')
    expect(fs.existsSync(file())).toBe(false)
    expect(said).toEqual([])
  })

  it('generates a token at first start, saves it with mode 0600 and announces where it is, once', () => {
    const dataDir = path.join(dir, 'fresh', 'data')
    const token = loadAdminToken({ dataDir, env: { CORTEX_ADMIN_TOKEN: '' }, announce })
    expect(token).toMatch(/^ctx_admin_[\w-]{32}$/)
    const saved = path.join(dataDir, 'admin-token')
    expect(fs.readFileSync(saved, 'utf8')).toBe(`${token}\n`)
    expect(said).toHaveLength(1)
    expect(said[0]).toContain(saved)
    expect(said[0]).toContain('Authorization: Bearer')
    expect(said[0]).not.toContain(token)
    if (process.platform !== 'win32') expect(fs.statSync(saved).mode & 0o777).toBe(0o600)
    expect(fs.readdirSync(dataDir)).toEqual(['admin-token'])

    expect(loadAdminToken({ dataDir, env: {}, announce })).toBe(token)
    expect(said).toHaveLength(1)
  })

  it('generates a different token per data directory', () => {
    const other = path.join(dir, 'other')
    expect(loadAdminToken({ dataDir: dir, env: {}, announce })).not.toBe(loadAdminToken({ dataDir: other, env: {}, announce }))
  })

  it('reads a token someone wrote into the file', () => {
    fs.writeFileSync(file(), 'my-own-token\n', { mode: 0o600 })
    expect(loadAdminToken({ dataDir: dir, env: {}, announce })).toBe('my-own-token')
    expect(said).toEqual([])
  })

  it.skipIf(process.platform === 'win32')('tightens a file others can read to 0600 and says so', () => {
    fs.writeFileSync(file(), 'loose-token')
    fs.chmodSync(file(), 0o644)
    expect(loadAdminToken({ dataDir: dir, env: {}, announce })).toBe('loose-token')
    expect(mode()).toBe(0o600)
    expect(said).toEqual([expect.stringMatching(/admin-token from 0644 to 0600/)])
  })

  it('refuses an empty token file, saying how to get a new token', () => {
    fs.writeFileSync(file(), '\n', { mode: 0o600 })
    expect(() => loadAdminToken({ dataDir: dir, env: {}, announce })).toThrow(/admin-token is empty; delete it/)
  })
})

describe('readAdminToken', () => {
  it('prefers CORTEX_ADMIN_TOKEN, then the file, and answers null when there is neither', () => {
    expect(readAdminToken(dir, {})).toBeNull()
    fs.writeFileSync(file(), 'from-file\n', { mode: 0o600 })
    expect(readAdminToken(dir, {})).toBe('from-file')
    expect(readAdminToken(dir, { CORTEX_ADMIN_TOKEN: 'from-env' })).toBe('from-env')
    expect(readAdminToken(path.join(dir, 'missing'), { CORTEX_ADMIN_TOKEN: '' })).toBeNull()
  })

  it('reads the token loadAdminToken generated', () => {
    const token = loadAdminToken({ dataDir: dir, env: {}, announce })
    expect(readAdminToken(dir, {})).toBe(token)
  })
})
