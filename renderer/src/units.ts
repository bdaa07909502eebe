/** One way to say sizes, rates, durations and times on every screen (STYLE.md §7b). Unknown values are "—". */

const DASH = '—'
const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const

/** 1536 → "1.5 KiB"; three significant figures, binary units (what nvidia-smi and the estimates mean). */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return DASH
  let value = Math.abs(bytes)
  let unit = 0
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024
    unit++
  }
  const sign = bytes < 0 ? '-' : ''
  return `${sign}${unit === 0 ? value : trim(value)} ${BYTE_UNITS[unit]}`
}

/** 42.345 → "42.3 tok/s". */
export function formatRate(perSecond: number | null | undefined, unit = 'tok/s'): string {
  if (perSecond === null || perSecond === undefined || !Number.isFinite(perSecond)) return DASH
  return `${trim(perSecond)} ${unit}`
}

/** Milliseconds as people read them: "850 ms", "4.2 s", "3 min 5 s", "2 h 10 min", "3 d 4 h". */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return DASH
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${trim(ms / 1000)} s`
  const s = Math.round(ms / 1000)
  if (s < 3600) return pair(Math.floor(s / 60), 'min', s % 60, 's')
  if (s < 86_400) return pair(Math.floor(s / 3600), 'h', Math.floor((s % 3600) / 60), 'min')
  return pair(Math.floor(s / 86_400), 'd', Math.floor((s % 86_400) / 3600), 'h')
}

/** An epoch-ms time relative to `now`: "just now", "5 min ago", "in 2 h". */
export function formatAgo(at: number | null | undefined, now: number): string {
  if (at === null || at === undefined) return 'never'
  const diff = now - at
  if (Math.abs(diff) < 5000) return 'just now'
  return diff > 0 ? `${formatDuration(diff)} ago` : `in ${formatDuration(-diff)}`
}

/** 0.1234 → "12.3 %" (a fraction), or an already-percent figure with `isPercent`. */
export function formatPercent(value: number | null | undefined, isPercent = false): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return DASH
  return `${trim(isPercent ? value : value * 100)} %`
}

/** 1234567 → "1,234,567"; counts of tokens and requests. */
export function formatCount(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return DASH
  return Math.round(value).toLocaleString('en-US')
}

/** 7_615_616_512 → "7.62 B" parameters; 1_500_000 → "1.5 M". */
export function formatParameters(count: number | null | undefined): string {
  if (count === null || count === undefined || !Number.isFinite(count)) return DASH
  if (count >= 1e9) return `${trim(count / 1e9)} B`
  if (count >= 1e6) return `${trim(count / 1e6)} M`
  return formatCount(count)
}

/** Context lengths: 32768 → "32,768 tokens". */
export function formatTokens(count: number | null | undefined): string {
  return count === null || count === undefined ? DASH : `${formatCount(count)} tokens`
}

export function formatCelsius(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? DASH : `${Math.round(value)} °C`
}

export function formatWatts(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? DASH : `${Math.round(value)} W`
}

/** An epoch-ms or ISO time as a local date and time: "2025-01-31 14:05". */
export function formatDateTime(at: number | string | null | undefined): string {
  if (at === null || at === undefined) return DASH
  const d = new Date(at)
  if (Number.isNaN(d.getTime())) return DASH
  const p = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`
}

/** Three significant figures without trailing zeros: 4.20 → "4.2", 123.4 → "123". */
function trim(value: number): string {
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2
  return String(Number(value.toFixed(digits)))
}

function pair(a: number, unitA: string, b: number, unitB: string): string {
  return b === 0 ? `${a} ${unitA}` : `${a} ${unitA} ${b} ${unitB}`
}
