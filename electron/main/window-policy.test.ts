import { describe, expect, it } from 'vitest'
import { closeAction, hasTrayHost, isConsoleUrl, navigationDecision, permissionAllowed } from './window-policy.js'

const origin = 'http://127.0.0.1:31313'

describe('window policy', () => {
  it.each([
    ['http://127.0.0.1:31313/models', 'allow'],
    ['http://127.0.0.1:31313/?code=abc', 'allow'],
    ['http://127.0.0.1:4000/', 'external'],
    ['http://localhost:31313/', 'external'],
    ['https://github.com/ggml-org/llama.cpp', 'external'],
    ['mailto:someone@example.com', 'external'],
    ['file:///etc/passwd', 'deny'],
    ['javascript:alert(1)', 'deny'],
    ['data:text/html,<p>hi</p>', 'deny'],
    ['vscode://open', 'deny'],
    ['not a url', 'deny'],
  ] as const)('navigating to %s: %s', (url, decision) => {
    expect(navigationDecision(url, origin)).toBe(decision)
  })

  it('knows a console frame by its origin only', () => {
    expect(isConsoleUrl('http://127.0.0.1:31313/keys', origin)).toBe(true)
    expect(isConsoleUrl('http://127.0.0.1:31314/keys', origin)).toBe(false)
    expect(isConsoleUrl('https://127.0.0.1:31313/', origin)).toBe(false)
    expect(isConsoleUrl(undefined, origin)).toBe(false)
    expect(isConsoleUrl('about:blank', origin)).toBe(false)
    // Addresses that begin like the console's and are another origin (a prefix check would let these through).
    for (const other of [
      'http://127.0.0.1:313130/',
      'http://127.0.0.1:31313.evil.example/',
      'http://127.0.0.1:31313@evil.example/',
      'http://127.0.0.1.evil.example:31313/',
    ])
      expect(isConsoleUrl(other, origin), other).toBe(false)
  })

  it('grants the console only clipboard writes (its Copy buttons), and nothing to other pages', () => {
    expect(permissionAllowed('clipboard-sanitized-write', 'http://127.0.0.1:31313/keys', origin)).toBe(true)
    expect(permissionAllowed('clipboard-sanitized-write', 'https://example.com/', origin)).toBe(false)
    expect(permissionAllowed('clipboard-sanitized-write', undefined, origin)).toBe(false)
    for (const permission of ['clipboard-read', 'media', 'notifications', 'geolocation', 'openExternal'])
      expect(permissionAllowed(permission, 'http://127.0.0.1:31313/', origin), permission).toBe(false)
  })

  it('close hides to the tray, minimizes without a tray host, and closes while quitting', () => {
    expect(closeAction(true, false)).toBe('hide')
    expect(closeAction(false, false)).toBe('minimize')
    expect(closeAction(true, true)).toBe('close')
    expect(closeAction(false, true)).toBe('close')
  })

  it.each([
    ['darwin', undefined, true],
    ['win32', undefined, true],
    ['linux', 'GNOME', false],
    ['linux', 'ubuntu:GNOME', true],
    ['linux', 'pop:GNOME', true],
    ['linux', 'KDE', true],
    ['linux', 'X-Cinnamon', true],
    ['linux', undefined, true],
  ] as const)('a tray host on %s with XDG_CURRENT_DESKTOP=%s: %s', (platform, desktop, has) => {
    expect(hasTrayHost(platform, desktop === undefined ? {} : { XDG_CURRENT_DESKTOP: desktop })).toBe(has)
  })
})
