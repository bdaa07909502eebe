import { act, render, screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { createMemoryRouter, RouterProvider } from 'react-router'
import { describe, expect, it, vi } from 'vitest'
import type { DryRunView, GpuSample, RecipeView } from '../../../../gateway/contract/index.js'
import { useStore } from '../../store/index.js'
import { errorBody, FakeEventSource, signInAs, stubFetch } from '../../test/fakes.js'
import { modelView } from '../../test/models.js'
import { Component as Models } from './index.js'

const GiB = 1024 ** 3
const renderAt = (path: string) =>
  render(<RouterProvider router={createMemoryRouter([{ path: '/models/*', element: <Models /> }], { initialEntries: [path] })} />)

const dryRun = (over: Partial<DryRunView> = {}): DryRunView => ({
  id: 'a',
  name: 'a',
  plan: { kind: 'process', command: '/usr/bin/llama-server', args: ['-m', '/m/a.gguf', '--port', '${PORT}'], env: {} },
  gpus: [{ index: 0, name: 'H100', totalBytes: 80 * GiB, freeBytes: 70 * GiB, needBytes: 2 * GiB }],
  estimate: null,
  fits: true,
  wouldEvict: [],
  warnings: [],
  ...over,
})

describe('model figures', () => {
  it('shows the GPU memory its engine holds now against the dry-run’s estimate', async () => {
    signInAs('admin')
    const gpu = { index: 0, processes: [{ pid: 7, processName: 'llama-server', usedBytes: GiB, model: { id: 'a', name: 'a' } }] }
    useStore.setState({
      modelsStatus: 'ready',
      models: { a: modelView('a', { state: 'running' }, { origin: 'api' }) },
      samples: [{ at: Date.now(), gpus: [gpu as unknown as GpuSample], host: null }],
    })
    stubFetch({ 'POST /admin/api/models/a/dry-run': { body: dryRun() } })
    renderAt('/models')
    const cell = within(screen.getByTestId('model-a')).getByTestId('gpu-memory')
    await waitFor(() => expect(cell.textContent).toBe('1 GiBest. 2 GiB'))
  })

  it('says when an idle model stops, and that a pinned one does not', () => {
    signInAs('admin')
    stubFetch({})
    const lastUsedAt = Date.now() - 10 * 60_000
    useStore.setState({
      modelsStatus: 'ready',
      models: {
        a: modelView('a', { state: 'running', lastUsedAt }, { ttlMs: 30 * 60_000 }),
        p: modelView('p', { state: 'running', lastUsedAt, pinned: true }, { ttlMs: 30 * 60_000, pinned: true }),
      },
    })
    renderAt('/models')
    expect(screen.getByTestId('model-a').textContent).toMatch(/10 min agostops in 20 min/)
    expect(screen.getByTestId('model-p').textContent).toMatch(/10 min agopinned/)
    expect(screen.getByTestId('model-p').textContent).not.toMatch(/stops in/)
  })

  it('a starting model shows the time so far against how long its last start took', () => {
    signInAs('admin')
    stubFetch({})
    const startingSince = Date.now() - 5_000
    useStore.setState({
      modelsStatus: 'ready',
      models: {
        a: modelView('a', { state: 'loading', startingSince, lastStartMs: 20_000 }),
        b: modelView('b', { state: 'starting', startingSince, lastStartMs: null }),
      },
    })
    renderAt('/models')
    expect(within(screen.getByTestId('model-a')).getByTestId('load-progress').textContent).toMatch(/^5 s of about 20 s$/)
    expect(within(screen.getByTestId('model-b')).getByTestId('load-progress').textContent).toMatch(/5 s \(first start\)/)
  })
})

describe('model actions', () => {
  it('pins and unpins with the answer’s view, and deletes only once confirmed', async () => {
    signInAs('admin')
    useStore.setState({ modelsStatus: 'ready', models: { a: modelView('a', {}, { origin: 'api' }) } })
    const { calls } = stubFetch({
      'POST /admin/api/models/a/pin': { body: modelView('a', { pinned: true }, { origin: 'api', pinned: true }) },
      'DELETE /admin/api/models/a': { status: 204 },
    })
    renderAt('/models')
    await userEvent.click(screen.getByTestId('pin'))
    await waitFor(() => expect(screen.getByTestId('pin').textContent).toBe('Unpin'))
    expect(screen.getByTestId('model-a').textContent).toMatch(/pinned/)

    await userEvent.click(screen.getByTestId('delete'))
    expect(screen.getByRole('group', { name: 'Confirm' }).textContent).toMatch(/Delete a\? Its engines stop; its usage stays/)
    expect(calls.some((c) => c.method === 'DELETE')).toBe(false)
    await userEvent.click(screen.getByTestId('delete-confirm'))
    await waitFor(() => expect(screen.getByTestId('state-empty').textContent).toMatch(/No models yet/))
    const actions = calls.filter((c) => !c.url.endsWith('/dry-run')).map((c) => `${c.method} ${c.url}`)
    expect(actions).toEqual(['POST /admin/api/models/a/pin', 'DELETE /admin/api/models/a'])
  })

  it('edits a model made on the API, sending the parsed fields, and shows a refusal’s message', async () => {
    vi.stubGlobal('EventSource', FakeEventSource)
    signInAs('admin')
    const a = modelView('a', {}, { origin: 'api', args: ['-c', '512'], source: '/m/a.gguf' })
    useStore.setState({ modelsStatus: 'ready', models: { a } })
    let answer: { status: number; body: unknown } = { status: 400, body: errorBody('args: "-m" is managed by Cortex: remove it') }
    const { calls } = stubFetch({ 'PATCH /admin/api/models/a': () => answer })
    renderAt('/models/a')
    await userEvent.click(screen.getByTestId('edit'))
    const flags = screen.getByTestId('edit-args')
    expect((flags as HTMLInputElement).value).toBe('-c 512')
    await userEvent.clear(flags)
    await userEvent.type(flags, '-c 4096 --chat-template "a b"')
    await userEvent.click(screen.getByTestId('edit-save'))
    expect((await screen.findByRole('alert')).textContent).toMatch(/"-m" is managed by Cortex: remove it/)
    const patch = calls.find((c) => c.method === 'PATCH')!
    expect(patch.body).toMatchObject({ args: ['-c', '4096', '--chat-template', 'a b'], gpus: 'all', source: '/m/a.gguf' })

    answer = { status: 200, body: { ...a, args: ['-c', '4096'] } }
    await userEvent.click(screen.getByTestId('edit-save'))
    await waitFor(() => expect(screen.queryByTestId('edit-form')).toBeNull())
    expect(screen.getByTestId('model-detail').textContent).toMatch(/-c 4096/)
  })
})

describe('create from a recipe', () => {
  const recipe: RecipeView = {
    id: 'qwen-7b',
    title: 'Qwen 2.5 7B',
    description: 'A chat model',
    sourceHint: 'the Q4_K_M GGUF',
    model: { name: 'qwen-7b', engine: 'llamacpp', runtime: 'process', args: ['-c', '8192'] },
    origin: 'shipped',
  }

  it('builds the form from the recipe, shows the dry-run as fields change, and creates the model', async () => {
    vi.stubGlobal('EventSource', FakeEventSource)
    signInAs('admin')
    useStore.setState({ modelsStatus: 'ready', models: {} })
    const { calls } = stubFetch({
      'GET /admin/api/recipes': { body: { data: [recipe] } },
      'POST /admin/api/dry-run': (req) => ({
        body: dryRun({
          warnings: [`model file ${(req.body as { source?: string }).source ?? ''} cannot be read (ENOENT): check the path`],
          wouldEvict: ['old-model'],
        }),
      }),
      'POST /admin/api/models': { status: 201, body: modelView('new1', {}, { name: 'qwen-7b', origin: 'api' }) },
    })
    renderAt('/models/new')
    await userEvent.click(await screen.findByTestId('recipe-qwen-7b'))
    expect(document.activeElement).toBe(screen.getByTestId('recipe-name'))
    expect((screen.getByTestId('recipe-args') as HTMLInputElement).value).toBe('-c 8192')
    await userEvent.type(screen.getByTestId('recipe-source'), '/m/q.gguf')
    const panel = screen.getByTestId('dry-run')
    await waitFor(() => expect(panel.textContent).toMatch(/\/m\/q\.gguf cannot be read/))
    expect(panel.textContent).toMatch(/llama-server -m \/m\/a\.gguf --port \$\{PORT\}/)
    expect(panel.textContent).toMatch(/Starting it stops: old-model/)
    expect(panel.textContent).toMatch(/2 GiB/)
    // Debounced: the keystrokes of the path did not each send a dry-run.
    expect(calls.filter((c) => c.url === '/admin/api/dry-run').length).toBeLessThan(4)

    await userEvent.click(screen.getByTestId('recipe-create'))
    await waitFor(() => expect(screen.getByTestId('model-detail')).toBeTruthy())
    const create = calls.find((c) => c.method === 'POST' && c.url === '/admin/api/models')!
    expect(create.body).toEqual({
      recipe: 'qwen-7b',
      overrides: { name: 'qwen-7b', runtime: 'process', gpus: 'all', args: ['-c', '8192'], source: '/m/q.gguf' },
    })
  })

  it('a member is told that only admins add models, and no recipe is asked for', () => {
    signInAs('member')
    const { calls } = stubFetch({})
    renderAt('/models/new')
    expect(screen.getByTestId('state-empty').textContent).toMatch(/Only admins add models/)
    expect(calls).toEqual([])
  })

  it('says when there are no recipes, and when they cannot be loaded', async () => {
    signInAs('admin')
    stubFetch({ 'GET /admin/api/recipes': { status: 500, body: errorBody('the recipes folder cannot be read') } })
    const first = renderAt('/models/new')
    expect((await screen.findByTestId('state-error')).textContent).toMatch(/recipes folder cannot be read/)
    first.unmount()
    stubFetch({ 'GET /admin/api/recipes': { body: { data: [] } } })
    renderAt('/models/new')
    expect((await screen.findByTestId('state-empty')).textContent).toMatch(/No recipes/)
  })
})

describe('images', () => {
  it('shows pulls per layer and in total', () => {
    signInAs('admin')
    stubFetch({})
    useStore.setState({
      modelsStatus: 'ready',
      models: {},
      pulls: {
        'vllm/vllm-openai:latest': {
          image: 'vllm/vllm-openai:latest',
          status: 'Downloading',
          layers: {
            aaaaaaaaaaaa1: { status: 'Downloading', current: GiB, total: 4 * GiB },
            bbbbbbbbbbbb2: { status: 'Download complete', current: GiB, total: GiB },
          },
        },
      },
    })
    renderAt('/models')
    const pull = screen.getByTestId('pull')
    expect(pull.textContent).toMatch(/Pulling vllm\/vllm-openai:latest — Downloading · 2 GiB of 5 GiB/)
    const total = within(pull).getByRole('progressbar', { name: 'vllm/vllm-openai:latest total' }) as HTMLProgressElement
    expect([total.value, total.max]).toEqual([2 * GiB, 5 * GiB])
    expect(within(pull).getAllByRole('progressbar')).toHaveLength(3)
  })

  it('hides a finished pull and keeps a failed one with its reason until dismissed', async () => {
    signInAs('admin')
    stubFetch({})
    const pull = (image: string, status: string) => ({ image, status, layers: {} })
    useStore.setState({
      modelsStatus: 'ready',
      models: {},
      pulls: {
        'a:1': pull('a:1', 'Status: Downloaded newer image for a:1'),
        'b:1': pull('b:1', 'failed: pull access denied for b, repository does not exist'),
      },
    })
    renderAt('/models')
    const shown = screen.getAllByTestId('pull')
    expect(shown.map((p) => p.textContent)).toEqual([
      'Could not pull b:1: pull access denied for b, repository does not existDismiss',
    ])
    await userEvent.click(screen.getByRole('button', { name: 'Dismiss' }))
    expect(screen.queryByTestId('pull')).toBeNull()
  })

  it('lists the images when opened and loads a saved one from a path, or says why not', async () => {
    signInAs('admin')
    useStore.setState({ modelsStatus: 'ready', models: {} })
    let loadAnswer: { status: number; body: unknown } = {
      status: 400,
      body: errorBody('/srv/x.tar does not exist: give the path of a docker save archive'),
    }
    const { calls } = stubFetch({
      'GET /admin/api/images': { body: { data: [{ id: 'sha256:1', tags: ['llama:server'], sizeBytes: 2 * GiB, createdAt: 0 }] } },
      'POST /admin/api/images/load': () => loadAnswer,
    })
    renderAt('/models')
    await userEvent.click(screen.getByText('Docker images'))
    expect((await screen.findByTestId('images-table')).textContent).toMatch(/llama:server.*2 GiB/)
    await userEvent.type(screen.getByTestId('image-path'), '/srv/x.tar')
    await userEvent.click(screen.getByTestId('image-load'))
    expect((await screen.findByTestId('image-error')).textContent).toMatch(/does not exist: give the path/)
    loadAnswer = { status: 200, body: { images: ['llama:server'] } }
    await userEvent.click(screen.getByTestId('image-load'))
    expect((await screen.findByTestId('image-loaded')).textContent).toBe('Loaded llama:server.')
    expect(calls.filter((c) => c.url === '/admin/api/images/load').map((c) => c.body)).toEqual([
      { path: '/srv/x.tar' },
      { path: '/srv/x.tar' },
    ])
  })
})

describe('log view', () => {
  it('pause holds the lines still while the log goes on; resume shows what came meanwhile', () => {
    vi.stubGlobal('EventSource', FakeEventSource)
    stubFetch({})
    signInAs('admin')
    useStore.setState({ modelsStatus: 'ready', models: { a: modelView('a', { state: 'running' }) } })
    renderAt('/models/a')
    const source = FakeEventSource.latest()
    act(() => {
      source.open()
      source.emit('message', 'one')
    })
    act(() => screen.getByTestId('logs-pause').click())
    act(() => source.emit('message', 'two'))
    expect(screen.getByTestId('log-lines').textContent).toBe('one')
    expect(screen.getByTestId('logs-status').textContent).toBe('Paused')
    act(() => screen.getByTestId('logs-pause').click())
    expect(screen.getByTestId('log-lines').textContent).toBe('one\ntwo')
  })

  it('stops following when the view closes', () => {
    vi.stubGlobal('EventSource', FakeEventSource)
    stubFetch({})
    signInAs('admin')
    useStore.setState({ modelsStatus: 'ready', models: { a: modelView('a') } })
    const view = renderAt('/models/a')
    const source = FakeEventSource.latest()
    view.unmount()
    expect(source.closed).toBe(true)
    expect(useStore.getState().logs).toBeNull()
  })
})
