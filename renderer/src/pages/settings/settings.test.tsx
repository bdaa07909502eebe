import { render, screen, waitFor } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import { useStore } from '../../store/index.js'
import { errorBody, signInAs, stubFetch } from '../../test/fakes.js'
import { Component as Settings } from './index.js'

describe('settings', () => {
  it('loading, then whether a token is set — never its value — and saving one', async () => {
    signInAs('admin')
    useStore.setState({ settings: { status: 'loading', data: null } })
    const first = render(<Settings />)
    expect(screen.getByTestId('state-loading')).toBeTruthy()
    first.unmount()
    useStore.setState({ settings: { status: 'ready', data: { hfToken: { set: false }, hfCache: null } } })
    const { calls } = stubFetch({ 'PUT /admin/api/settings': { body: { hfToken: { set: true }, hfCache: null } } })
    render(<Settings />)
    expect(screen.getByTestId('hf-state').textContent).toBe('Not set')
    await userEvent.type(screen.getByTestId('hf-token'), 'hf_secret')
    await userEvent.click(screen.getByTestId('hf-save'))
    await waitFor(() => expect(screen.getByTestId('hf-state').textContent).toBe('Set'))
    expect(calls[0]!.body).toEqual({ hfToken: 'hf_secret' })
    expect((screen.getByTestId('hf-token') as HTMLInputElement).value).toBe('')
    expect(document.body.textContent).not.toContain('hf_secret')
  })

  it('an error offers a retry; a member is told only admins change settings', () => {
    signInAs('admin')
    useStore.setState({ settings: { status: 'error', error: 'Cortex did not answer', missing: false, data: null } })
    const first = render(<Settings />)
    expect(screen.getByTestId('state-error').textContent).toMatch(/Cortex did not answer/)
    first.unmount()
    signInAs('member')
    render(<Settings />)
    expect(screen.getByTestId('state-empty').textContent).toMatch(/Only admins can change settings/)
  })

  it('clears a token that is set, and shows a refused save with the form kept', async () => {
    signInAs('admin')
    useStore.setState({
      settings: { status: 'ready', data: { hfToken: { set: true }, hfCache: '/srv/hf' } },
      system: {
        status: 'ready',
        data: {
          cortex: {
            version: '0.2.0',
            dataDir: '/var/lib/cortex',
            llamaServer: { found: true, path: '/usr/bin/llama-server', version: '7123 (a1b2c3d)', howToGet: '' },
            docker: { available: true, message: null },
          },
          snapshot: { cpu: { model: 'x', cores: 2, physicalCores: 1 }, memoryTotalBytes: 1, gpus: [] },
          host: null,
          at: 0,
          error: null,
        },
      },
    })
    const { calls } = stubFetch({
      'PUT /admin/api/settings': (req) =>
        (req.body as { hfToken: string | null }).hfToken === null
          ? { body: { hfToken: { set: false }, hfCache: '/srv/hf' } }
          : { status: 400, body: errorBody('a Hugging Face token starts with hf_') },
    })
    render(<Settings />)
    expect(screen.getByText('/srv/hf')).toBeTruthy()
    expect(screen.getByTestId('cortex-version').textContent).toBe('0.2.0')
    expect(screen.getByTestId('data-dir').textContent).toBe('/var/lib/cortex')
    expect(screen.getByTestId('llama-version').textContent).toBe('7123 (a1b2c3d)')
    await userEvent.type(screen.getByTestId('hf-token'), 'nope')
    await userEvent.click(screen.getByTestId('hf-save'))
    expect((await screen.findByRole('alert')).textContent).toBe('a Hugging Face token starts with hf_')
    expect(screen.getByTestId('hf-state').textContent).toBe('Set')
    await userEvent.click(screen.getByTestId('hf-clear'))
    await waitFor(() => expect(screen.getByTestId('hf-state').textContent).toBe('Not set'))
    expect(calls.at(-1)!.body).toEqual({ hfToken: null })
    expect(screen.queryByTestId('hf-clear')).toBeNull()
  })
})
