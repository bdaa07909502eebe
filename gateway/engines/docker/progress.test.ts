import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { JsonLines, readLoadMessages, readPullMessage, type DockerMessage, type PullStep } from './progress.js'

const fixture = (name: string) => readFileSync(new URL(`../../../test/support/fixtures/${name}`, import.meta.url), 'utf8')

/** Feeds `text` in chunks of `size` characters, as a socket would cut it. */
function split(text: string, size: number): DockerMessage[] {
  const lines = new JsonLines()
  const out: DockerMessage[] = []
  for (let i = 0; i < text.length; i += size) out.push(...lines.push(text.slice(i, i + size)))
  return [...out, ...lines.end()]
}

const IMAGE = 'ghcr.io/ggml-org/llama.cpp:server'
const steps = (text: string) => split(text, 7).map((m) => readPullMessage(IMAGE, m))

describe('JsonLines', () => {
  it('gives the same objects whatever the chunk boundaries', () => {
    const text = fixture('docker-pull-llamacpp-server.jsonl')
    const whole = split(text, text.length)
    expect(whole).toHaveLength(25)
    for (const size of [1, 3, 64, 1000]) expect(split(text, size)).toEqual(whole)
  })

  it('keeps a last line without a newline, skips blank lines, and turns a non-JSON line into an error', () => {
    expect(split('{"status":"a"}\n\n<html>Bad Gateway</html>\n{"status":"b"}', 5)).toEqual([
      { status: 'a' },
      { error: 'unexpected answer from Docker: <html>Bad Gateway</html>' },
      { status: 'b' },
    ])
  })
})

describe('readPullMessage on a recorded pull of the llama.cpp server image', () => {
  const all = steps(fixture('docker-pull-llamacpp-server.jsonl'))
  const progress = all.map((s) => (s as Extract<PullStep, { kind: 'progress' }>).progress)

  it('reads every line as progress, none as an error', () => {
    expect(all.every((s) => s?.kind === 'progress')).toBe(true)
  })

  it('reports the image-level lines without a layer', () => {
    expect(progress.filter((p) => p.layer === null).map((p) => p.status)).toEqual([
      'Pulling from ggml-org/llama.cpp',
      'Digest: sha256:5f0e1c3a8b9d2e4f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f',
      `Status: Downloaded newer image for ${IMAGE}`,
    ])
  })

  it('follows one layer from "Pulling fs layer" to "Pull complete" with byte counts while downloading', () => {
    expect(progress.filter((p) => p.layer === 'd9d352c11bbd')).toEqual(
      [
        ['Pulling fs layer', null, null],
        ['Downloading', 294912, 29754290],
        ['Downloading', 15204352, 29754290],
        ['Downloading', 29754290, 29754290],
        ['Verifying Checksum', null, null],
        ['Download complete', null, null],
        ['Extracting', 294912, 29754290],
        ['Extracting', 29754290, 29754290],
        ['Pull complete', null, null],
      ].map(([status, current, total]) => ({ image: IMAGE, layer: 'd9d352c11bbd', status, current, total })),
    )
  })

  it('sees three layers, all complete', () => {
    const done = new Set(progress.filter((p) => p.status === 'Pull complete').map((p) => p.layer))
    expect(new Set(progress.map((p) => p.layer).filter(Boolean))).toEqual(done)
    expect(done.size).toBe(3)
  })
})

describe('readPullMessage on a pull that breaks off', () => {
  it('ends with the error Docker sent in-band', () => {
    const all = steps(fixture('docker-pull-failed.jsonl'))
    expect(all.at(-1)).toEqual({
      kind: 'error',
      message: 'read tcp 192.168.1.20:50312->140.82.113.33:443: read: connection reset by peer',
    })
    expect(all.slice(0, -1).every((s) => s?.kind === 'progress')).toBe(true)
  })

  it('ignores a message with neither status nor error', () => {
    expect(readPullMessage(IMAGE, { id: 'x' })).toBeNull()
  })
})

describe('readLoadMessages', () => {
  it.each<[string, DockerMessage[], ReturnType<typeof readLoadMessages>]>([
    [
      'a tagged image',
      [{ stream: 'Loaded image: cortex-test/llama-server:abc\n' }],
      { images: ['cortex-test/llama-server:abc'] },
    ],
    [
      'progress lines, then two names',
      [
        { status: 'Loading layer', progressDetail: { current: 32768, total: 20314112 }, id: '8d3ac3489996' },
        { stream: 'Loaded image: a:1\n' },
        { stream: 'Loaded image: b:2\n' },
      ],
      { images: ['a:1', 'b:2'] },
    ],
    ['an untagged image, by id', [{ stream: 'Loaded image ID: sha256:427778ecd5f1\n' }], { images: ['sha256:427778ecd5f1'] }],
    [
      // What Docker 20.10 answers (HTTP 200) for a file that is not an image tar.
      'a refused tar',
      [
        {
          errorDetail: { message: 'Error processing tar file(exit status 1): unexpected EOF' },
          error: 'Error processing tar file(exit status 1): unexpected EOF',
        },
      ],
      { error: 'Error processing tar file(exit status 1): unexpected EOF' },
    ],
  ])('%s', (_name, messages, expected) => {
    expect(readLoadMessages(messages)).toEqual(expected)
  })
})
