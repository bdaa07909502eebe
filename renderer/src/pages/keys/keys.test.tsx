import { render, screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { createMemoryRouter, RouterProvider } from 'react-router'
import { describe, expect, it } from 'vitest'
import type { ApiKeyView } from '../../../../gateway/contract/index.js'
import { useStore } from '../../store/index.js'
import { errorBody, signInAs, stubFetch } from '../../test/fakes.js'
import { Component as Keys } from './index.js'

const key = (name: string, over: Partial<ApiKeyView> = {}): ApiKeyView => ({
  id: `key_${name}`,
  name,
  prefix: 'sk-cortex-Ab3d…',
  org: null,
  user: null,
  models: null,
  scopes: ['inference'],
  limits: { rpm: 60, tpm: null, concurrency: null, dailyTokens: null },
  ips: null,
  tags: [],
  createdAt: '2026-01-01T00:00:00.000Z',
  expiresAt: null,
  revokedAt: null,
  state: 'active',
  ...over,
})

const renderKeys = () =>
  render(<RouterProvider router={createMemoryRouter([{ path: '/keys/*', element: <Keys /> }], { initialEntries: ['/keys'] })} />)

describe('keys', () => {
  it('loading, empty, then the list with limits in words', () => {
    signInAs('admin')
    useStore.setState({ keys: { status: 'loading', data: null } })
    const first = renderKeys()
    expect(screen.getByTestId('state-loading')).toBeTruthy()
    first.unmount()
    useStore.setState({ keys: { status: 'ready', data: [] } })
    const second = renderKeys()
    expect(screen.getByTestId('state-empty').textContent).toMatch(/No keys yet/)
    second.unmount()
    useStore.setState({ keys: { status: 'ready', data: [key('ci'), key('old', { state: 'revoked' })] } })
    renderKeys()
    expect(screen.getByTestId('key-ci').textContent).toMatch(/every model.*60 req\/min/)
    expect(screen.getByTestId('key-old').querySelector('[data-testid="revoke"]')).toBeNull()
  })

  it('says what to fix before sending, and shows a refusal’s message', async () => {
    signInAs('admin')
    useStore.setState({ keys: { status: 'ready', data: [] } })
    const { calls } = stubFetch({
      'POST /admin/api/keys': { status: 400, body: errorBody('an API key named "ci" already exists') },
    })
    renderKeys()
    await userEvent.click(screen.getByTestId('key-form-create'))
    expect(screen.getByTestId('key-form-error').textContent).toMatch(/Give the key a name/)
    expect(screen.getByTestId('key-form-name').getAttribute('aria-invalid')).toBe('true')
    await userEvent.type(screen.getByTestId('key-form-name'), 'ci')
    await userEvent.type(screen.getByPlaceholderText('anywhere (or 10.0.0.0/8, ::1)'), 'the office')
    await userEvent.click(screen.getByTestId('key-form-create'))
    expect(screen.getByTestId('key-form-error').textContent).toMatch(/"the office" is not an address or range/)
    expect(screen.getByTestId('key-form-name').getAttribute('aria-invalid')).toBeNull()
    expect(screen.getByLabelText('Client addresses').getAttribute('aria-describedby')).toBe('key-form-error')
    await userEvent.type(screen.getByLabelText('Tags (for routes)'), 'night batch')
    await userEvent.clear(screen.getByPlaceholderText('anywhere (or 10.0.0.0/8, ::1)'))
    await userEvent.click(screen.getByTestId('key-form-create'))
    expect(screen.getByTestId('key-form-error').textContent).toMatch(/Tag "night batch": letters, digits/)
    await userEvent.clear(screen.getByLabelText('Tags (for routes)'))
    expect(calls).toHaveLength(0)
    await userEvent.clear(screen.getByPlaceholderText('anywhere (or 10.0.0.0/8, ::1)'))
    await userEvent.click(screen.getByTestId('key-form-create'))
    expect((await screen.findByText(/already exists/)).textContent).toMatch(/"ci" already exists/)
    expect(calls[0]!.body).toEqual({ name: 'ci', scopes: ['inference', 'embeddings'] })
  })

  it('shows a created key once, with a copy button, and sends the chosen models and limits', async () => {
    signInAs('admin')
    useStore.setState({ keys: { status: 'ready', data: [] } })
    const created = key('ci', { models: ['tiny'], limits: { rpm: 30, tpm: null, concurrency: null, dailyTokens: 100000 } })
    const { calls } = stubFetch({
      'POST /admin/api/keys': { body: { key: 'sk-cortex-secret-once', apiKey: created } },
      'GET /admin/api/keys': { body: [created] },
    })
    renderKeys()
    await userEvent.type(screen.getByTestId('key-form-name'), 'ci')
    await userEvent.type(screen.getByLabelText('Requests per minute'), '30')
    await userEvent.type(screen.getByLabelText('Tokens per day'), '100000')
    await userEvent.type(screen.getByLabelText('Client addresses'), '10.0.0.0/8, ::1')
    await userEvent.click(screen.getByTestId('key-form-create'))
    expect((await screen.findByTestId('created-key-value')).textContent).toBe('sk-cortex-secret-once')
    expect(screen.getByRole('status').textContent).toMatch(/you will not see it again/)
    expect(within(screen.getByTestId('created-key')).getByRole('button', { name: /copy/i })).toBeTruthy()
    expect((await screen.findByTestId('key-ci')).textContent).toMatch(/tiny.*30 req\/min.*tok\/day/)
    expect(calls[0]!.body).toEqual({
      name: 'ci',
      scopes: ['inference', 'embeddings'],
      rpm: 30,
      dailyTokens: 100000,
      ips: ['10.0.0.0/8', '::1'],
    })
  })

  it('revokes a key only once confirmed', async () => {
    signInAs('admin')
    useStore.setState({ keys: { status: 'ready', data: [key('ci')] } })
    const { calls } = stubFetch({
      'DELETE /admin/api/keys/key_ci': { body: key('ci', { state: 'revoked' }) },
      'GET /admin/api/keys': { body: [key('ci', { state: 'revoked' })] },
    })
    renderKeys()
    await userEvent.click(screen.getByTestId('revoke'))
    expect(calls).toHaveLength(0)
    await userEvent.click(screen.getByTestId('revoke-confirm'))
    await expect.poll(() => screen.getByTestId('key-ci').getAttribute('data-state')).toBe('revoked')
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual(['DELETE /admin/api/keys/key_ci', 'GET /admin/api/keys'])
  })

  it('a failed load says so, with a way to try again', () => {
    signInAs('admin')
    useStore.setState({ keys: { status: 'error', data: null, error: 'connection refused', missing: false } })
    renderKeys()
    expect(screen.getByTestId('state-error').textContent).toMatch(/Could not load keys.*connection refused/)
  })

  it('a member has no organization picker and no people tab', () => {
    signInAs('member')
    useStore.setState({ keys: { status: 'ready', data: [] } })
    renderKeys()
    expect(screen.queryByTestId('tab-people')).toBeNull()
    expect(screen.queryByText('Organization')).toBeNull()
  })
})
