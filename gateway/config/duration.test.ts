import { describe, expect, it } from 'vitest'
import { parseByteSize, parseDuration } from './duration.js'

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['30m', 1_800_000],
    ['2h', 7_200_000],
    ['30d', 2_592_000_000],
    ['1.5h', 5_400_000],
    ['45', 45_000],
    [45, 45_000],
    [0.25, 250],
    ['0', 0],
    [0, 0],
    ['0s', 0],
  ] as const)('reads %j as %d ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms)
  })

  it.each(['5 minutes', '', '-1s', '1w', '1.s', 'm'])('rejects %j with the accepted forms', (input) => {
    expect(() => parseDuration(input)).toThrow(`invalid duration "${input}": expected a duration like 500ms, 30s, 30m, 2h, 30d`)
  })

  it('rejects negative and non-finite numbers', () => {
    expect(() => parseDuration(-1)).toThrow('invalid duration -1')
    expect(() => parseDuration(Number.POSITIVE_INFINITY)).toThrow('invalid duration Infinity')
  })
})

describe('parseByteSize', () => {
  it.each([
    ['64MiB', 64 * 1024 ** 2],
    ['512KB', 512_000],
    ['512KiB', 524_288],
    ['1GiB', 1024 ** 3],
    ['1.5GB', 1_500_000_000],
    ['2TB', 2e12],
    ['1TiB', 1024 ** 4],
    ['10MB', 10_000_000],
    ['100B', 100],
    ['64 MiB', 64 * 1024 ** 2],
    ['4096', 4096],
    [4096, 4096],
  ] as const)('reads %j as %d bytes', (input, bytes) => {
    expect(parseByteSize(input)).toBe(bytes)
  })

  it.each(['64 MiBs', 'lots', '1kb', '-5MB', ''])('rejects %j with the accepted forms', (input) => {
    expect(() => parseByteSize(input)).toThrow(`invalid size "${input}": expected a size like 64MiB, 512KB, 1GiB`)
  })

  it('rejects fractional and negative byte counts', () => {
    expect(() => parseByteSize(1.5)).toThrow('invalid size 1.5')
    expect(() => parseByteSize(-1)).toThrow('invalid size -1')
  })
})
