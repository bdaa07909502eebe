import { render, screen, waitFor } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { createMemoryRouter, RouterProvider } from 'react-router'
import { describe, expect, it } from 'vitest'
import type { DryRunView, GgufInspectView } from '../../../../gateway/contract/index.js'
import { useStore } from '../../store/index.js'
import { errorBody, signInAs, stubFetch } from '../../test/fakes.js'
import { modelView } from '../../test/models.js'
import { AddModel } from './AddModel.js'

const GGUF = '/models/Qwen2.5-0.5B-Instruct-Q4_K_M.gguf'

const inspected: GgufInspectView = {
  path: GGUF,
  sizeBytes: 491_400_032,
  architecture: 'qwen2',
  name: 'Qwen2.5 0.5B Instruct',
  parameters: 494_032_768,
  quantization: 'Q4_K_M',
  contextLength: 32_768,
  gpuEstimate: {
    totalBytes: 1_610_612_736,
    weightsBytes: 491_400_032,
    kvCacheBytes: 805_306_368,
    computeBytes: 1,
    overheadBytes: 1,
    contextTokens: 131_072,
    slots: 4,
    notes: [],
  },
}

const dryRun = (args: string[]): DryRunView => ({
  id: '',
  name: 'qwen2.5-0.5b-instruct-q4_k_m',
  plan: { kind: 'process', command: '/usr/bin/llama-server', args: ['-m', GGUF, ...args], env: {} },
  gpus: [],
  estimate: null,
  fits: null,
  wouldEvict: [],
  warnings: ['Docker is not running'],
})

function renderAddModel(found = { docker: false, llamaServer: true }) {
  const router = createMemoryRouter(
    [
      { path: '/first-run', element: <AddModel {...found} /> },
      { path: '/models', element: <p data-testid="models-screen">models</p> },
    ],
    { initialEntries: ['/first-run'] },
  )
  render(<RouterProvider router={router} />)
  return router
}

describe('add the first model from a GGUF path', () => {
  it("shows the gateway's message for a bad path, and offers nothing to add", async () => {
    signInAs('admin')
    stubFetch({
      'POST /admin/api/gguf/inspect': {
        status: 400,
        body: errorBody('/nope.gguf does not exist: give the path of a .gguf file on this machine'),
      },
    })
    renderAddModel()
    await userEvent.type(screen.getByTestId('gguf-path'), '/nope.gguf')
    await userEvent.click(screen.getByTestId('gguf-inspect'))
    expect((await screen.findByTestId('gguf-error')).textContent).toMatch(/nope\.gguf does not exist/)
    expect(screen.queryByTestId('gguf-facts')).toBeNull()
    expect(screen.queryByTestId('model-add')).toBeNull()
  })

  it('reads the header first, names the model after the file, shows the dry-run, adds it and goes to the models', async () => {
    signInAs('admin')
    const { calls } = stubFetch({
      'POST /admin/api/gguf/inspect': { body: inspected },
      'POST /admin/api/dry-run': (req) => ({ body: dryRun((req.body as { args?: string[] }).args ?? []) }),
      'POST /admin/api/models': (req) => ({
        status: 201,
        body: modelView('m1', {}, { name: (req.body as { name: string }).name }),
      }),
    })
    const router = renderAddModel()
    await userEvent.type(screen.getByTestId('gguf-path'), `  ${GGUF} `)
    await userEvent.click(screen.getByTestId('gguf-inspect'))
    const facts = await screen.findByTestId('gguf-facts')
    expect(calls[0]!.body).toEqual({ path: GGUF })
    expect(screen.getByTestId('gguf-architecture').textContent).toBe('qwen2')
    expect(screen.getByTestId('gguf-context').textContent).toBe('32,768 tokens')
    expect(facts.textContent).toMatch(/Q4_K_M/)
    expect(screen.getByTestId('gguf-estimate').textContent).toBe('1.5 GiB for 131,072 tokens in 4 slots')
    expect((screen.getByTestId('model-name') as HTMLInputElement).value).toBe('qwen2.5-0.5b-instruct-q4_k_m')
    // The trained context is capped to a size a first model starts with quickly.
    expect((screen.getByTestId('model-context') as HTMLInputElement).value).toBe('8192')
    expect((screen.getByTestId('model-runtime') as HTMLSelectElement).value).toBe('process')

    const context = screen.getByTestId('model-context')
    await userEvent.clear(context)
    await userEvent.type(context, '2048')
    await waitFor(() => expect(screen.getByTestId('dry-run').textContent).toMatch(/llama-server -m .* -c 2048/), {
      timeout: 2000,
    })
    expect(screen.getByTestId('dry-run').textContent).toMatch(/Docker is not running/)

    await userEvent.click(screen.getByTestId('model-add'))
    await waitFor(() => expect(router.state.location.pathname).toBe('/models'))
    expect(calls.find((c) => c.method === 'POST' && c.url === '/admin/api/models')!.body).toEqual({
      name: 'qwen2.5-0.5b-instruct-q4_k_m',
      engine: 'llamacpp',
      runtime: 'process',
      source: GGUF,
      args: ['-c', '2048'],
    })
    expect(useStore.getState().models.m1?.name).toBe('qwen2.5-0.5b-instruct-q4_k_m')
  })

  it("keeps the form and shows the gateway's refusal when adding fails", async () => {
    signInAs('admin')
    stubFetch({
      'POST /admin/api/gguf/inspect': { body: inspected },
      'POST /admin/api/dry-run': { body: dryRun([]) },
      'POST /admin/api/models': { status: 409, body: errorBody('a model named "qwen" exists already', 'conflict') },
    })
    const router = renderAddModel()
    await userEvent.type(screen.getByTestId('gguf-path'), GGUF)
    await userEvent.click(screen.getByTestId('gguf-inspect'))
    const name = await screen.findByTestId('model-name')
    await userEvent.clear(name)
    await userEvent.type(name, 'qwen')
    await userEvent.click(screen.getByTestId('model-add'))
    expect((await screen.findByRole('alert')).textContent).toMatch(/exists already/)
    expect(router.state.location.pathname).toBe('/first-run')
  })

  it('forgets what it read once the path changes, and runs the file in Docker where only Docker is there', async () => {
    signInAs('admin')
    stubFetch({ 'POST /admin/api/gguf/inspect': { body: inspected }, 'POST /admin/api/dry-run': { body: dryRun([]) } })
    renderAddModel({ docker: true, llamaServer: false })
    await userEvent.type(screen.getByTestId('gguf-path'), GGUF)
    await userEvent.click(screen.getByTestId('gguf-inspect'))
    await screen.findByTestId('gguf-facts')
    expect((screen.getByTestId('model-runtime') as HTMLSelectElement).value).toBe('docker')
    await userEvent.type(screen.getByTestId('gguf-path'), 'x')
    expect(screen.queryByTestId('gguf-facts')).toBeNull()
    expect(screen.queryByTestId('model-add')).toBeNull()
  })

  it('links to the recipes on the Models screen', () => {
    signInAs('admin')
    renderAddModel()
    expect(screen.getByTestId('from-recipe').getAttribute('href')).toBe('/models/new')
  })
})
