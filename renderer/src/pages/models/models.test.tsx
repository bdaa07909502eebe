import { act, render, screen, waitFor } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { createMemoryRouter, RouterProvider } from 'react-router'
import { describe, expect, it, vi } from 'vitest'
import type { ModelStateView } from '../../../../gateway/contract/index.js'
import { useStore } from '../../store/index.js'
import { applyEvent } from '../../store/slices.js'
import { errorBody, FakeEventSource, signInAs, stubFetch } from '../../test/fakes.js'
import { modelView } from '../../test/models.js'
import { Component as Models } from './index.js'

const renderAt = (path: string) =>
  render(<RouterProvider router={createMemoryRouter([{ path: '/models/*', element: <Models /> }], { initialEntries: [path] })} />)

const member = (id: string, state: ModelStateView['status']['state']): ModelStateView => ({
  id,
  name: id,
  aliases: [],
  engine: 'llamacpp',
  runtime: 'process',
  status: { state, queued: 0, contextLength: null, lastUsedAt: null, replicas: [] },
})

describe('models list', () => {
  it('shows loading, then the error with a retry, then the empty state with the ways to add one', async () => {
    signInAs('admin')
    const { unmount } = renderAt('/models')
    expect(screen.getByTestId('state-loading')).toBeTruthy()
    unmount()
    useStore.setState({ modelsStatus: 'error', modelsError: 'Cortex did not answer' })
    const second = renderAt('/models')
    expect(screen.getByTestId('state-error').textContent).toMatch(/Cortex did not answer/)
    second.unmount()
    useStore.setState({ modelsStatus: 'ready', modelsError: null, models: {} })
    renderAt('/models')
    expect(screen.getByTestId('state-empty').textContent).toMatch(/No models yet.*GGUF.*recipe/)
  })

  it('an admin sees each model with its state and actions; a stop answers with the new view at once', async () => {
    signInAs('admin')
    useStore.setState({
      modelsStatus: 'ready',
      models: {
        a: modelView('a', { state: 'running', replicas: [{ index: 0, state: 'running', inFlight: 0 }] }, { origin: 'api' }),
        b: modelView('b', {
          state: 'failed',
          diagnosis: { cause: 'not_gguf', message: 'b.gguf is not a GGUF file', exitCode: 1, logTail: [] },
        }),
      },
    })
    const { calls } = stubFetch({
      'POST /admin/api/models/a/stop': { body: modelView('a', { state: 'stopped' }, { origin: 'api' }) },
    })
    renderAt('/models')
    const row = screen.getByTestId('model-a')
    expect(row.dataset.state).toBe('running')
    expect(screen.getByTestId('failed-b').textContent).toMatch(/b failed to start: b.gguf is not a GGUF file/)
    await userEvent.click(row.querySelector('[data-testid="stop"]')!)
    await waitFor(() => expect(screen.getByTestId('model-a').dataset.state).toBe('stopped'))
    const actions = calls.filter((c) => !c.url.endsWith('/dry-run'))
    expect(actions.map((c) => `${c.method} ${c.url}`)).toEqual(['POST /admin/api/models/a/stop'])
  })

  it('a start answered after the engine already failed leaves the failure on screen, not the stale answer', async () => {
    signInAs('admin')
    useStore.setState({ modelsStatus: 'ready', models: { a: modelView('a') } })
    stubFetch({
      'POST /admin/api/models/a/start': () => {
        // The events stream's `failed` lands while the 202 is on its way.
        useStore.setState((s) => ({ models: { ...s.models, a: modelView('a', { state: 'failed' }) } }))
        return { status: 202, body: modelView('a', { state: 'starting' }) }
      },
    })
    renderAt('/models')
    await userEvent.click(screen.getByTestId('start'))
    await waitFor(() => expect(screen.getByTestId('model-a').dataset.state).toBe('failed'))
    await new Promise((r) => setTimeout(r, 20))
    expect(screen.getByTestId('model-a').dataset.state).toBe('failed')
  })

  it('a refused action shows the gateway’s message under its row', async () => {
    signInAs('admin')
    useStore.setState({ modelsStatus: 'ready', models: { a: modelView('a') } })
    stubFetch({
      'POST /admin/api/models/a/start': {
        status: 409,
        body: errorBody('model "a" is declared in the config file', 'model_managed_by_config'),
      },
    })
    renderAt('/models')
    await userEvent.click(screen.getByTestId('start'))
    expect((await screen.findByTestId('action-error')).textContent).toMatch(/declared in the config file/)
  })

  it('a member sees names and states only: no actions, no links, no ways to add', () => {
    signInAs('member')
    useStore.setState({ modelsStatus: 'ready', models: { a: member('a', 'running') } })
    renderAt('/models')
    expect(screen.getByTestId('model-a').dataset.state).toBe('running')
    expect(screen.queryByTestId('start')).toBeNull()
    expect(screen.queryByTestId('stop')).toBeNull()
    expect(screen.queryByRole('link')).toBeNull()
    expect(screen.queryByRole('columnheader', { name: 'GPU memory' })).toBeNull()
    expect(screen.queryByTestId('images')).toBeNull()
  })
})

describe('model detail', () => {
  it('a failed model shows its diagnosis first, its log follows live, and a config model’s edit says where to change it', async () => {
    vi.stubGlobal('EventSource', FakeEventSource)
    stubFetch({})
    signInAs('admin')
    const diagnosis = {
      cause: 'model_file_missing',
      message: '/m/x.gguf does not exist: fix source',
      exitCode: null,
      logTail: ['line 1'],
    }
    useStore.setState({
      modelsStatus: 'ready',
      models: { x: modelView('x', { state: 'failed', diagnosis }, { origin: 'config' }) },
    })
    renderAt('/models/x')
    expect(screen.getByTestId('diagnosis').textContent).toMatch(/The model file is missing.*does not exist: fix source.*line 1/)
    const source = FakeEventSource.latest()
    expect(source.url).toBe('/admin/api/models/x/logs?follow=1')
    act(() => {
      source.open()
      source.emit('message', 'loading model')
      source.emit('message', 'listening on 127.0.0.1')
    })
    expect(screen.getByTestId('log-lines').textContent).toBe('loading model\nlistening on 127.0.0.1')
    await userEvent.type(screen.getByTestId('logs-search'), 'listen')
    expect(screen.getByTestId('log-lines').textContent).toBe('listening on 127.0.0.1')
    await userEvent.click(screen.getByTestId('edit'))
    expect(screen.getByTestId('edit-readonly').textContent).toMatch(/config file/)
  })

  it('a scheduled model says when it is available and when that changes', () => {
    vi.stubGlobal('EventSource', FakeEventSource)
    stubFetch({})
    signInAs('admin')
    const schedule = [{ days: ['mon' as const], from: 120, to: 360, timeZone: 'UTC' }]
    const opensAt = Date.now() + 3 * 3_600_000
    useStore.setState({
      modelsStatus: 'ready',
      models: { n: modelView('n', { schedule: { open: false, nextChangeAt: opensAt } }, { schedule, preload: true }) },
    })
    const detail = renderAt('/models/n')
    expect(screen.getByTestId('schedule').textContent).toMatch(
      /02:00–06:00 UTC \(mon\) — closed now, opens in 3 h.*starts when a window opens/,
    )
    detail.unmount()
    // The list says the next change under the model's state; a schedule edge on the stream moves it.
    renderAt('/models')
    expect(screen.getByTestId('schedule-next').textContent).toBe('opens in 3 h')
    act(() =>
      useStore.setState((s) =>
        applyEvent(s, { type: 'schedule', id: 'n', name: 'n', open: true, nextChangeAt: Date.now() + 4 * 3_600_000 }, Date.now()),
      ),
    )
    expect(screen.getByTestId('schedule-next').textContent).toBe('closes in 4 h')
  })

  it('an unknown id says so, with the way back; a list that could not load says why', () => {
    signInAs('admin')
    useStore.setState({ modelsStatus: 'ready', models: {} })
    const first = renderAt('/models/nope')
    expect(screen.getByTestId('state-empty').textContent).toMatch(/No such model/)
    first.unmount()
    useStore.setState({ modelsStatus: 'error', modelsError: 'Cortex did not answer' })
    renderAt('/models/nope')
    expect(screen.getByTestId('state-error').textContent).toMatch(/Cortex did not answer/)
  })
})
