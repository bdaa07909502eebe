// Draws the desktop app's icons into resources/ (no downloads, no image tools): `npx tsx scripts/make-icons.ts`.
// Tray: one image per state (idle, loading, running, failed) for light and dark taskbars and as macOS template
// images (black and alpha, which macOS tints), each at 1x and @2x. App: a 512 px icon electron-builder turns into
// the platforms' formats. The shapes differ per state, so a template image (no colour) still tells them apart.
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { deflateSync } from 'node:zlib'

type Rgba = [number, number, number, number]
/** Coverage of a point (x, y in 0..1 of the image) by the shape: true inside. */
type Shape = (x: number, y: number) => boolean

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const STATES = ['idle', 'loading', 'running', 'failed'] as const
const ACCENT: Record<(typeof STATES)[number], Rgba | null> = {
  idle: null,
  loading: [210, 153, 34, 255],
  running: [46, 160, 67, 255],
  failed: [229, 83, 75, 255],
}

const ring: Shape = (x, y) => {
  const r = Math.hypot(x - 0.5, y - 0.5)
  return r <= 0.45 && r >= 0.33
}
/** Three quarters of the ring: the open quarter at the top right reads as "in progress". */
const arc: Shape = (x, y) => ring(x, y) && !(x > 0.5 && y < 0.5)
const dot: Shape = (x, y) => Math.hypot(x - 0.5, y - 0.5) <= 0.2
const bar: Shape = (x, y) => Math.abs(y - 0.5) <= 0.08 && Math.abs(x - 0.5) <= 0.22

const MARKS: Record<(typeof STATES)[number], { outline: Shape; mark: Shape | null }> = {
  idle: { outline: ring, mark: null },
  loading: { outline: arc, mark: dot },
  running: { outline: ring, mark: dot },
  failed: { outline: ring, mark: bar },
}

/** Paints layers (later ones on top), 4×4 samples per pixel for smooth edges. */
function render(size: number, layers: Array<[Shape, Rgba]>): Buffer {
  const pixels = Buffer.alloc(size * size * 4)
  const n = 4
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      const sum = [0, 0, 0, 0]
      for (let sy = 0; sy < n; sy++) {
        for (let sx = 0; sx < n; sx++) {
          const x = (px + (sx + 0.5) / n) / size
          const y = (py + (sy + 0.5) / n) / size
          const hit = layers.findLast(([shape]) => shape(x, y))
          if (!hit) continue
          const [r, g, b, a] = hit[1]
          sum[0]! += r * a
          sum[1]! += g * a
          sum[2]! += b * a
          sum[3]! += a
        }
      }
      const alpha = sum[3]!
      const at = (py * size + px) * 4
      if (alpha > 0) for (let c = 0; c < 3; c++) pixels[at + c] = Math.round(sum[c]! / alpha)
      pixels[at + 3] = Math.round(alpha / (n * n))
    }
  }
  return pixels
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})
function crc32(bytes: Buffer): number {
  let c = 0xffffffff
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8)
  head.writeUInt32BE(data.length, 0)
  head.write(type, 4, 'ascii')
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0)
  return Buffer.concat([head, data, crc])
}

/** An 8-bit RGBA PNG: each row prefixed with filter 0, zlib-deflated into one IDAT. */
function png(size: number, rgba: Buffer): Buffer {
  const header = Buffer.alloc(13)
  header.writeUInt32BE(size, 0)
  header.writeUInt32BE(size, 4)
  header.set([8, 6, 0, 0, 0], 8)
  const rows = Buffer.alloc(size * (size * 4 + 1))
  for (let y = 0; y < size; y++) rgba.copy(rows, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4)
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ])
}

function write(file: string, size: number, layers: Array<[Shape, Rgba]>): void {
  const full = path.join(root, 'resources', file)
  mkdirSync(path.dirname(full), { recursive: true })
  writeFileSync(full, png(size, render(size, layers)))
}

const INK: Record<'light' | 'dark' | 'Template', Rgba> = {
  light: [32, 32, 32, 255],
  dark: [240, 240, 240, 255],
  Template: [0, 0, 0, 255],
}

for (const state of STATES) {
  const { outline, mark } = MARKS[state]
  for (const variant of ['light', 'dark', 'Template'] as const) {
    const ink = INK[variant]
    const markColour = variant === 'Template' ? ink : (ACCENT[state] ?? ink)
    const layers: Array<[Shape, Rgba]> = [[outline, ink], ...(mark ? [[mark, markColour] as [Shape, Rgba]] : [])]
    const name = variant === 'Template' ? `${state}Template` : `${state}-${variant}`
    write(`tray/${name}.png`, 16, layers)
    write(`tray/${name}@2x.png`, 32, layers)
  }
}

// The app icon: the running mark on a rounded dark square.
const tile: Shape = (x, y) => {
  const dx = Math.max(Math.abs(x - 0.5) - 0.32, 0)
  const dy = Math.max(Math.abs(y - 0.5) - 0.32, 0)
  return Math.hypot(dx, dy) <= 0.12
}
const scaled =
  (shape: Shape, k: number): Shape =>
  (x, y) =>
    shape(0.5 + (x - 0.5) / k, 0.5 + (y - 0.5) / k)
write('icon.png', 512, [
  [tile, [24, 28, 36, 255]],
  [scaled(ring, 0.6), [240, 240, 240, 255]],
  [scaled(dot, 0.6), ACCENT.running!],
])
