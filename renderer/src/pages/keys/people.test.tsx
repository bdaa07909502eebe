import { render, screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { createMemoryRouter, RouterProvider } from 'react-router'
import { describe, expect, it } from 'vitest'
import type { SessionListItem, UserView } from '../../../../gateway/contract/index.js'
import { useStore } from '../../store/index.js'
import { errorBody, signInAs, stubFetch } from '../../test/fakes.js'
import { Component as Keys } from './index.js'

const NOW = Date.now()
const acme = { id: 'org_1', name: 'acme', createdAt: '2026-01-01T00:00:00.000Z' }
const ann: UserView = { id: 'u2', name: 'ann', org: 'acme', role: 'member', createdAt: '2026-01-02T00:00:00.000Z' }
const session = (name: string, over: Partial<SessionListItem> = {}): SessionListItem => ({
  id: `s_${name}`,
  user: { id: `u_${name}`, name, role: name === 'admin' ? 'admin' : 'member' },
  createdAt: NOW - 3_600_000,
  lastSeenAt: NOW - 120_000,
  expiresAt: NOW + 86_400_000,
  userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0',
  address: '127.0.0.1',
  current: false,
  ...over,
})

const renderPeople = () =>
  render(
    <RouterProvider
      router={createMemoryRouter([{ path: '/keys/*', element: <Keys /> }], { initialEntries: ['/keys/people'] })}
    />,
  )

const ready = <T,>(data: T) => ({ status: 'ready' as const, data })

describe('organizations, users and sessions', () => {
  it('loading, then empty lists that say what they are for', () => {
    signInAs('admin')
    useStore.setState({ orgs: { status: 'loading', data: null }, users: { status: 'loading', data: null } })
    const first = renderPeople()
    expect(screen.getAllByTestId('state-loading').length).toBeGreaterThanOrEqual(2)
    first.unmount()
    useStore.setState({ orgs: ready([]), users: ready([]), sessions: ready([session('admin', { current: true })]) })
    renderPeople()
    const empties = screen.getAllByTestId('state-empty').map((e) => e.textContent)
    expect(empties).toEqual([expect.stringMatching(/No organizations yet/), expect.stringMatching(/No users yet/)])
  })

  it('an error says what failed, and Retry loads again', async () => {
    signInAs('admin')
    useStore.setState({
      orgs: { status: 'error', data: null, error: 'the gateway is not answering', missing: false },
      users: ready([]),
      sessions: ready([]),
    })
    const { calls } = stubFetch({ 'GET /admin/api/orgs': { body: [acme] } })
    renderPeople()
    expect(screen.getByTestId('state-error').textContent).toMatch(/not answering/)
    await userEvent.click(within(screen.getByTestId('state-error')).getByRole('button', { name: /try again/i }))
    expect(await screen.findByTestId('orgs')).toBeTruthy()
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual(['GET /admin/api/orgs'])
  })

  it('adds an organization, refusing an empty name first and showing the gateway’s refusal', async () => {
    signInAs('admin')
    useStore.setState({ orgs: ready([]), users: ready([]), sessions: ready([]) })
    const { calls } = stubFetch({
      'POST /admin/api/orgs': (req) =>
        (req.body as { name: string }).name === 'acme'
          ? { status: 409, body: errorBody('an organization named "acme" already exists') }
          : { body: { ...acme, name: 'beta' } },
      'GET /admin/api/orgs': { body: [acme, { ...acme, id: 'org_2', name: 'beta' }] },
    })
    renderPeople()
    await userEvent.click(screen.getByTestId('org-create'))
    expect(screen.getByTestId('org-error').textContent).toMatch(/Give the organization a name/)
    expect(calls).toHaveLength(0)
    await userEvent.type(screen.getByTestId('org-name'), 'acme')
    await userEvent.click(screen.getByTestId('org-create'))
    expect((await screen.findByText(/already exists/)).textContent).toMatch(/"acme" already exists/)
    await userEvent.clear(screen.getByTestId('org-name'))
    await userEvent.type(screen.getByTestId('org-name'), 'beta')
    await userEvent.click(screen.getByTestId('org-create'))
    expect((await screen.findByTestId('orgs')).textContent).toMatch(/acme.*beta/)
    expect(calls.filter((c) => c.method === 'POST').map((c) => c.body)).toEqual([{ name: 'acme' }, { name: 'beta' }])
  })

  it('shows the password rule before sending, checks it, then adds the user', async () => {
    signInAs('admin')
    useStore.setState({ orgs: ready([acme]), users: ready([]), sessions: ready([]) })
    const { calls } = stubFetch({
      'POST /admin/api/users': { body: ann },
      'GET /admin/api/users': { body: [ann] },
    })
    renderPeople()
    expect(screen.getByLabelText(/Password \(12 characters or more\)/)).toBeTruthy()
    await userEvent.type(screen.getByTestId('user-name'), 'ann')
    await userEvent.click(screen.getByTestId('user-create'))
    expect(screen.getByTestId('user-error').textContent).toMatch(/Choose the organization/)
    await userEvent.selectOptions(screen.getByTestId('user-org'), 'acme')
    await userEvent.type(screen.getByTestId('user-password'), 'short')
    await userEvent.click(screen.getByTestId('user-create'))
    expect(screen.getByTestId('user-error').textContent).toMatch(/at least 12 characters \(it has 5\)/)
    expect(calls).toHaveLength(0)
    await userEvent.type(screen.getByTestId('user-password'), ' but long now')
    await userEvent.click(screen.getByTestId('user-create'))
    expect((await screen.findByTestId('users')).textContent).toMatch(/ann.*acme.*member/)
    expect(calls[0]!.body).toEqual({ name: 'ann', org: 'acme', role: 'member', password: 'short but long now' })
  })

  it('a gateway without the sessions route says it needs a newer Cortex, not an error', () => {
    signInAs('admin')
    useStore.setState({
      orgs: ready([acme]),
      users: ready([ann]),
      sessions: { status: 'error', data: null, error: 'no route', missing: true },
    })
    renderPeople()
    expect(screen.getByTestId('state-missing').textContent).toMatch(/Sessions needs a newer Cortex/)
    expect(screen.queryByTestId('state-error')).toBeNull()
  })

  it('lists sessions with this browser marked, and signs another one out', async () => {
    signInAs('admin')
    useStore.setState({
      orgs: ready([acme]),
      users: ready([ann]),
      sessions: ready([session('admin', { current: true }), session('ann')]),
    })
    const { calls } = stubFetch({
      'DELETE /admin/api/auth/sessions/s_ann': { status: 204 },
      'GET /admin/api/auth/sessions': { body: [session('admin', { current: true })] },
    })
    renderPeople()
    const mine = screen.getByTestId('session-admin-current')
    expect(mine.textContent).toMatch(/this browser/)
    expect(mine.textContent).toMatch(/signed in 1 h ago.*seen 2 min/)
    expect(within(mine).queryByRole('button')).toBeNull()
    expect(screen.getByTestId('session-ann').textContent).toMatch(/127\.0\.0\.1.*Firefox/)
    await userEvent.click(screen.getByRole('button', { name: 'Sign out ann (127.0.0.1)' }))
    await expect.poll(() => screen.queryByTestId('session-ann')).toBeNull()
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      'DELETE /admin/api/auth/sessions/s_ann',
      'GET /admin/api/auth/sessions',
    ])
  })
})
