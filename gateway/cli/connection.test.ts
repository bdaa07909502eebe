import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { resolveConnection } from './connection.js'
import { CliError } from './io.js'

let dataDir: string
beforeEach(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cortex-cli-'))
})
afterEach(() => {
  fs.rmSync(dataDir, { recursive: true, force: true })
})

const tokenFile = () => path.join(dataDir, 'admin-token')

describe('resolveConnection', () => {
  const env = (extra: NodeJS.ProcessEnv) => ({ CORTEX_DATA_DIR: dataDir, ...extra })

  it('connects where serve listens by default, with the token file named as the source', () => {
    fs.writeFileSync(tokenFile(), 'tok\n')
    expect(resolveConnection({}, env({}))).toEqual({ url: 'http://127.0.0.1:31313', token: 'tok', tokenSource: tokenFile() })
  })

  it('reads the file when CORTEX_ADMIN_TOKEN is blank, and names CORTEX_ADMIN_TOKEN when it is set', () => {
    fs.writeFileSync(tokenFile(), 'from-file\n')
    expect(resolveConnection({}, env({ CORTEX_ADMIN_TOKEN: ' ' }))).toMatchObject({
      token: 'from-file',
      tokenSource: tokenFile(),
    })
    expect(resolveConnection({}, env({ CORTEX_ADMIN_TOKEN: 'from-env' }))).toMatchObject({
      token: 'from-env',
      tokenSource: 'CORTEX_ADMIN_TOKEN',
    })
  })

  it.each([
    ['0.0.0.0', 'http://127.0.0.1:8080'],
    ['::', 'http://[::1]:8080'],
    ['::1', 'http://[::1]:8080'],
    ['[::1]', 'http://[::1]:8080'],
    ['10.0.0.5', 'http://10.0.0.5:8080'],
  ])('turns a listen address of %s into %s', (host, url) => {
    expect(resolveConnection({}, env({ CORTEX_HOST: host, CORTEX_PORT: '8080' })).url).toBe(url)
  })

  it('takes --data-dir over CORTEX_DATA_DIR for the token file, and --url over the config', () => {
    const other = path.join(dataDir, 'other')
    fs.mkdirSync(other)
    fs.writeFileSync(path.join(other, 'admin-token'), 'other-tok')
    expect(resolveConnection({ url: 'http://gpu-box:9000', dataDir: other }, env({}))).toEqual({
      url: 'http://gpu-box:9000',
      token: 'other-tok',
      tokenSource: path.join(other, 'admin-token'),
    })
  })

  it('refuses to guess a port picked at start', () => {
    expect(() => resolveConnection({}, env({ CORTEX_PORT: '0' }))).toThrow(CliError)
  })
})
