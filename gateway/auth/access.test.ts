import { describe, expect, it } from 'vitest'
import { MemoryKeys } from '../http/fakes.test-support.js'
import { authenticate, presentedKey, requireScope, type AccessOptions } from './access.js'
import { ipAllowed, isLoopback } from './ip.js'

const SECRET = 'sk-cortex-0123456789abcdefghijklmnop'

function options(keys: MemoryKeys, o: Partial<AccessOptions> = {}): AccessOptions {
  return { required: true, allowLoopbackWithoutKey: false, findByHash: (h) => keys.findByHash(h), now: () => 1_000, ...o }
}

const code = (f: () => unknown) => {
  try {
    f()
  } catch (err) {
    return (err as { code?: string }).code
  }
  return 'no error'
}

describe('presentedKey', () => {
  it('reads Bearer (any case) and x-api-key, and accepts both when they agree', () => {
    expect(presentedKey({ authorization: `Bearer ${SECRET}` })).toBe(SECRET)
    expect(presentedKey({ authorization: `bearer   ${SECRET} ` })).toBe(SECRET)
    expect(presentedKey({ 'x-api-key': SECRET })).toBe(SECRET)
    expect(presentedKey({ authorization: `Bearer ${SECRET}`, 'x-api-key': SECRET })).toBe(SECRET)
    expect(presentedKey({})).toBeNull()
  })

  it('refuses malformed headers with 401 and never repeats their value', () => {
    for (const headers of [
      { authorization: `Basic ${SECRET}` },
      { authorization: 'Bearer' },
      { authorization: `Bearer ${SECRET} extra` },
      { authorization: `Bearer ${SECRET}\u00e9` },
      { 'x-api-key': `${SECRET}, ${SECRET}` },
      { authorization: `Bearer ${SECRET}`, 'x-api-key': `${SECRET}x` },
    ]) {
      let message = ''
      expect(
        code(() => {
          try {
            presentedKey(headers)
          } catch (err) {
            message = (err as Error).message
            throw err
          }
        }),
        JSON.stringify(headers),
      ).toBe('invalid_api_key')
      expect(message).not.toContain(SECRET)
    }
  })
})

describe('authenticate', () => {
  it('finds the key by its hash and refuses unknown, revoked and expired ones', () => {
    const keys = new MemoryKeys()
    const record = keys.add(SECRET)
    keys.add('sk-cortex-revoked-revoked-revoked', { revokedAt: 500 })
    keys.add('sk-cortex-expired-expired-expired', { expiresAt: 1_000 })
    expect(authenticate({ authorization: `Bearer ${SECRET}` }, '10.0.0.1', options(keys))).toBe(record)
    for (const key of [
      'sk-cortex-unknown-unknown-unknown',
      'sk-cortex-revoked-revoked-revoked',
      'sk-cortex-expired-expired-expired',
    ])
      expect(
        code(() => authenticate({ 'x-api-key': key }, '10.0.0.1', options(keys))),
        key,
      ).toBe('invalid_api_key')
    expect(code(() => authenticate({}, '127.0.0.1', options(keys)))).toBe('invalid_api_key')
  })

  it('lets keyless and unknown-key callers in only where the owner opened the door', () => {
    const keys = new MemoryKeys()
    keys.add('sk-cortex-revoked-revoked-revoked', { revokedAt: 500 })
    const loopback = options(keys, { allowLoopbackWithoutKey: true })
    expect(authenticate({}, '127.0.0.1', loopback)).toBeNull()
    expect(authenticate({}, '::ffff:127.0.0.1', loopback)).toBeNull()
    expect(authenticate({ authorization: 'Bearer whatever-the-sdk-sends' }, '::1', loopback)).toBeNull()
    expect(code(() => authenticate({}, '192.0.2.1', loopback))).toBe('invalid_api_key')
    // A key the operator revoked stays refused even where no key is needed.
    expect(code(() => authenticate({ 'x-api-key': 'sk-cortex-revoked-revoked-revoked' }, '::1', loopback))).toBe(
      'invalid_api_key',
    )
    expect(authenticate({}, '192.0.2.1', options(keys, { required: false }))).toBeNull()
    // What clients send with a blank key field is no key where none is needed, and a 401 where one is.
    for (const headers of [{ authorization: 'Bearer ' }, { authorization: 'Basic dTpw' }, { 'x-api-key': '' }]) {
      expect(authenticate(headers, '::1', loopback), JSON.stringify(headers)).toBeNull()
      expect(code(() => authenticate(headers, '192.0.2.1', loopback))).toBe('invalid_api_key')
    }
  })

  it('checks the IP allowlist on the socket address, IPv4 and IPv6', () => {
    const keys = new MemoryKeys()
    keys.add(SECRET, { ips: ['10.1.0.0/16', '2001:db8::/32', '192.0.2.7'] })
    const from = (address: string) => code(() => authenticate({ authorization: `Bearer ${SECRET}` }, address, options(keys)))
    expect(from('10.1.200.3')).toBe('no error')
    expect(from('::ffff:10.1.0.9')).toBe('no error')
    expect(from('2001:db8:1::5')).toBe('no error')
    expect(from('192.0.2.7')).toBe('no error')
    expect(from('192.0.2.8')).toBe('ip_not_allowed')
    expect(from('10.2.0.1')).toBe('ip_not_allowed')
    expect(from('2001:db9::1')).toBe('ip_not_allowed')
  })
})

describe('scopes and models', () => {
  it('requires one of the scopes, and lets a keyless caller do anything', () => {
    const keys = new MemoryKeys()
    const embedOnly = keys.add(SECRET, { scopes: ['embeddings'] })
    expect(code(() => requireScope(embedOnly, 'inference'))).toBe('scope_not_allowed')
    expect(code(() => requireScope(embedOnly, ['inference', 'embeddings']))).toBe('no error')
    expect(code(() => requireScope(null, 'admin:read'))).toBe('no error')
  })
})

describe('ip', () => {
  it('knows loopback in every form a socket reports it', () => {
    expect(['127.0.0.1', '127.8.9.1', '::1', '::ffff:127.0.0.1'].map(isLoopback)).toEqual([true, true, true, true])
    expect(['10.0.0.1', '::ffff:10.0.0.1', undefined].map(isLoopback)).toEqual([false, false, false])
    expect(ipAllowed(['10.0.0.0/8'], undefined)).toBe(false)
  })
})
