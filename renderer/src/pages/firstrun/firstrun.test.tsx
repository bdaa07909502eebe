import { render, screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { createMemoryRouter, RouterProvider } from 'react-router'
import { describe, expect, it } from 'vitest'
import type { SystemView } from '../../api.js'
import { useStore } from '../../store/index.js'
import { errorBody, signInAs, stubFetch } from '../../test/fakes.js'
import { Component as FirstRun } from './index.js'
import { snippets } from './snippets.js'

const system = (over: Partial<NonNullable<SystemView['cortex']>> = {}, gpus = 0): SystemView => ({
  cortex: {
    version: '0.1.0',
    dataDir: '/home/ada/.local/share/cortex',
    llamaServer: {
      found: false,
      path: null,
      version: null,
      howToGet: 'Install llama.cpp (brew install llama.cpp) or set engines.llamaServer',
    },
    docker: { available: false, message: 'Docker is not running at unix:///var/run/docker.sock' },
    ...over,
  },
  snapshot: {
    cpu: { model: 'x', cores: 2 },
    memoryTotalBytes: 1,
    gpus: Array.from({ length: gpus }, (_, i) => ({
      index: i,
      uuid: `GPU-${i}`,
      name: 'NVIDIA H100 80GB HBM3',
      memoryTotalBytes: 85_520_809_984,
    })),
  } as SystemView['snapshot'],
  host: null,
  at: 0,
  error: null,
})

const renderFirstRun = () => render(<RouterProvider router={createMemoryRouter([{ path: '/', element: <FirstRun /> }])} />)

describe('first run', () => {
  it('loading, then what is missing with how to fix it, and no GPU as a plain state', () => {
    signInAs('admin')
    useStore.setState({ system: { status: 'loading', data: null } })
    const { unmount } = renderFirstRun()
    expect(screen.getByTestId('state-loading')).toBeTruthy()
    unmount()
    useStore.setState({ system: { status: 'ready', data: system() } })
    renderFirstRun()
    expect(screen.getByTestId('check-gpus').textContent).toMatch(/No NVIDIA GPU found.*CPU/)
    expect(screen.getByTestId('check-llama').dataset.ok).toBe('false')
    expect(screen.getByTestId('check-llama').textContent).toMatch(/brew install llama.cpp/)
    expect(screen.getByTestId('check-docker').textContent).toMatch(/not running.*usermod -aG docker/)
  })

  it('lists the GPUs found with their memory, and llama-server with its version', () => {
    signInAs('admin')
    useStore.setState({
      system: {
        status: 'ready',
        data: system({ llamaServer: { found: true, path: '/usr/bin/llama-server', version: 'b6000', howToGet: '' } }, 2),
      },
    })
    renderFirstRun()
    expect(screen.getByTestId('check-gpus').textContent).toMatch(
      /2 NVIDIA GPUs.*0: NVIDIA H100 80GB HBM3 — 79.6 GiB.*1: NVIDIA H100/,
    )
    expect(screen.getByTestId('check-llama').textContent).toMatch(/\/usr\/bin\/llama-server — b6000/)
  })

  it('an error offers a retry; a member is told who sets Cortex up', () => {
    signInAs('admin')
    useStore.setState({ system: { status: 'error', error: 'Cortex did not answer', missing: false, data: null } })
    const { unmount } = renderFirstRun()
    expect(screen.getByTestId('state-error').textContent).toMatch(/Cortex did not answer/)
    unmount()
    signInAs('member')
    renderFirstRun()
    expect(screen.getByTestId('state-empty').textContent).toMatch(/Only admins set Cortex up/)
  })

  it("shows the gateway's fixes with commands as code and addresses as links, and no fix twice", () => {
    signInAs('admin')
    useStore.setState({
      system: {
        status: 'ready',
        data: system({
          llamaServer: {
            found: false,
            path: null,
            version: null,
            howToGet: 'Run `brew install llama.cpp`, or a build from https://github.com/ggml-org/llama.cpp/releases.',
          },
          docker: {
            available: false,
            message: 'Cortex may not use Docker (permission denied): `sudo usermod -aG docker $USER`, then log in again',
          },
        }),
      },
    })
    renderFirstRun()
    const llama = screen.getByTestId('check-llama')
    expect(llama.querySelector('code')?.textContent).toBe('brew install llama.cpp')
    expect(llama.querySelector('a')?.getAttribute('href')).toBe('https://github.com/ggml-org/llama.cpp/releases')
    expect(llama.textContent).not.toContain('`')
    const docker = screen.getByTestId('check-docker')
    expect(docker.querySelectorAll('code')).toHaveLength(1)
    expect(docker.textContent).toMatch(/permission denied.*Only models that run as containers need it\.$/)
  })

  it('makes a key once and fills it into the snippets', async () => {
    signInAs('admin')
    useStore.setState({ system: { status: 'ready', data: system() } })
    stubFetch({ 'POST /admin/api/keys': { status: 201, body: { key: 'sk-cortex-new', apiKey: {} } } })
    renderFirstRun()
    await userEvent.click(screen.getByTestId('create-key'))
    expect((await screen.findByTestId('new-key-value')).textContent).toBe('sk-cortex-new')
    expect(screen.queryByTestId('create-key')).toBeNull()
    expect(screen.getByTestId('key-once').textContent).toMatch(/cannot show it again/)
    expect(screen.getByTestId('snippet-code').textContent).toContain('Bearer sk-cortex-new')
    await userEvent.click(screen.getByTestId('snippet-claude'))
    expect(screen.getByTestId('snippet-code').textContent).toContain('ANTHROPIC_AUTH_TOKEN=sk-cortex-new')
    // Arrows move between the clients, wrapping around, with the focus on the tab shown.
    await userEvent.keyboard('{ArrowRight}')
    expect(document.activeElement).toBe(screen.getByTestId('snippet-curl'))
    expect(screen.getByTestId('snippet-code').textContent).toMatch(/^curl /)
    await userEvent.keyboard('{ArrowLeft}')
    expect(screen.getByTestId('snippet-claude').getAttribute('aria-selected')).toBe('true')
  })

  it("shows a refused key's message and keeps the form", async () => {
    signInAs('admin')
    useStore.setState({ system: { status: 'ready', data: system() } })
    stubFetch({ 'POST /admin/api/keys': { status: 409, body: errorBody('a key named "my-first-key" exists already') } })
    renderFirstRun()
    await userEvent.click(screen.getByTestId('create-key'))
    expect((await screen.findByRole('alert')).textContent).toMatch(/exists already/)
    expect(screen.getByTestId('create-key')).toBeTruthy()
    expect(screen.queryByTestId('new-key')).toBeNull()
  })
})

describe('snippets', () => {
  it('fill in the base URL, key and model, with placeholders where there are none', () => {
    const all = snippets('http://127.0.0.1:31313', null, null)
    expect(all.map((s) => s.id)).toEqual(['curl', 'python', 'js', 'openwebui', 'continue', 'claude'])
    expect(all[0]!.code).toContain('http://127.0.0.1:31313/v1/chat/completions')
    expect(all[0]!.code).toContain('Bearer <your key>')
    expect(all.find((s) => s.id === 'claude')!.code).toBe(
      'ANTHROPIC_BASE_URL=http://127.0.0.1:31313 ANTHROPIC_AUTH_TOKEN=<your key> ANTHROPIC_MODEL=<model> claude',
    )
    expect(snippets('http://h', 'k', 'qwen')[1]!.code).toContain('api_key="k"')
  })
})
