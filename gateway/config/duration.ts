const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/
const DURATION_UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

const SIZE = /^(\d+(?:\.\d+)?)\s*([KMGT]i?B|B)?$/
const SIZE_POWER: Record<string, number> = { K: 1, M: 2, G: 3, T: 4 }

/** `500ms`, `30s`, `30m`, `2h`, `30d` → milliseconds; a bare number (or numeric string) is seconds; `0` is never → 0. */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new Error(`invalid duration ${value}: expected a number of seconds >= 0`)
    return Math.round(value * 1000)
  }
  const match = DURATION.exec(value.trim())
  if (!match) throw new Error(`invalid duration "${value}": expected a duration like 500ms, 30s, 30m, 2h, 30d`)
  return Math.round(Number(match[1]) * DURATION_UNIT_MS[match[2] ?? 's']!)
}

/** `64MiB`, `512KB`, `1GiB`, `1.5GB` → bytes (KB = 1000, KiB = 1024); a bare number is bytes. */
export function parseByteSize(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0) throw new Error(`invalid size ${value}: expected a whole number of bytes`)
    return value
  }
  const match = SIZE.exec(value.trim())
  if (!match) throw new Error(`invalid size "${value}": expected a size like 64MiB, 512KB, 1GiB`)
  const unit = match[2] ?? 'B'
  const multiplier = unit === 'B' ? 1 : (unit[1] === 'i' ? 1024 : 1000) ** SIZE_POWER[unit[0]!]!
  return Math.round(Number(match[1]) * multiplier)
}
