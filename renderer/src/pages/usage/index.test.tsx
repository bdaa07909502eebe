import { fireEvent, render, screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { createMemoryRouter, RouterProvider } from 'react-router'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import type { UsageGroup, UsageReport } from '../../../../gateway/contract/index.js'
import { FakePlot } from '../../components/chart/fake-uplot.js'
import { errorBody, signInAs, stubFetch } from '../../test/fakes.js'
import { Component, loader } from './index.js'

vi.mock('uplot', () => import('../../components/chart/fake-uplot.js'))

const group = (key: string | null, over: Partial<UsageGroup> = {}): UsageGroup => ({
  key,
  name: key,
  requests: 3,
  errors: 1,
  errorRate: 1 / 3,
  promptTokens: 84,
  completionTokens: 12,
  totalTokens: 96,
  bytesIn: 600,
  bytesOut: 1200,
  latencyMs: { p50: 119, p95: 246, p99: 1500 },
  ttftMs: null,
  ...over,
})

const report = (groupBy: UsageReport['groupBy'], groups: UsageGroup[]): UsageReport => ({
  groupBy,
  from: '2025-01-30T15:30:00.000Z',
  to: '2025-01-31T15:30:00.000Z',
  groups,
  total: group(null, {
    requests: groups.reduce((n, g) => n + g.requests, 0),
    promptTokens: groups.reduce((n, g) => n + g.promptTokens, 0),
  }),
})

const open = (url = '/usage') => {
  const router = createMemoryRouter([{ path: '/usage', Component, loader }], { initialEntries: [url] })
  render(<RouterProvider router={router} />)
  return router
}

beforeEach(() => {
  FakePlot.made = []
  signInAs('admin')
})

describe('Usage screen', () => {
  it('counts while the first report comes', async () => {
    vi.stubGlobal('fetch', () => new Promise(() => {}))
    open()
    expect((await screen.findByTestId('state-loading')).textContent).toContain('Counting requests')
  })

  it('shows each row and the total as a table and a chart, with a CSV link of the same report', async () => {
    const { calls } = stubFetch({
      'GET /admin/api/usage': { body: report('model', [group('small', { requests: 1 }), group('tiny', { requests: 3 })]) },
    })
    open()
    const rows = await screen.findAllByTestId('usage-row')
    expect(calls[0]!.url).toMatch(/^\/admin\/api\/usage\?groupBy=model&from=\d+&to=\d+&format=json$/)
    expect(rows.map((r) => within(r).getByTestId('usage-name').textContent)).toEqual(['tiny', 'small'])
    expect(
      within(rows[0]!)
        .getAllByRole('cell')
        .map((c) => c.textContent),
    ).toEqual(['3', '1 (33.3 %)', '84', '12', '119 ms / 246 ms / 1.5 s', '—'])
    expect(within(screen.getByTestId('usage-total')).getByTestId('usage-requests').textContent).toBe('4')
    expect(screen.getByTestId('usage-chart').getAttribute('data-points')).toBe('2')
    expect(FakePlot.latest().data[1]).toEqual([3, 1])
    const csv = screen.getByTestId('usage-csv').getAttribute('href')
    expect(csv).toBe(
      `/admin/api/usage?groupBy=model&from=${Date.parse('2025-01-30T15:30:00.000Z')}&to=${Date.parse('2025-01-31T15:30:00.000Z')}&format=csv`,
    )
  })

  it('charts the figure picked', async () => {
    stubFetch({ 'GET /admin/api/usage': { body: report('model', [group('tiny')]) } })
    open()
    await screen.findAllByTestId('usage-row')
    await userEvent.selectOptions(screen.getByLabelText('Chart'), 'Tokens in')
    expect(FakePlot.latest().data[1]).toEqual([84])
    await userEvent.selectOptions(screen.getByLabelText('Chart'), 'Error rate')
    expect(FakePlot.latest().data[1]).toEqual([(1 / 3) * 100])
  })

  it('asks again by day or over another range, keeping the choice in the address', async () => {
    const { calls } = stubFetch({
      'GET /admin/api/usage': (req) => ({
        body: req.url.includes('groupBy=day') ? report('day', [group('2025-01-31')]) : report('model', [group('tiny')]),
      }),
    })
    const router = open()
    await screen.findAllByTestId('usage-row')
    await userEvent.click(screen.getByTestId('group-day'))
    await screen.findByRole('columnheader', { name: 'Day' })
    expect(router.state.location.search).toBe('?groupBy=day')
    expect(calls.at(-1)!.url).toContain('groupBy=day')
    expect(screen.getByTestId('group-day').getAttribute('aria-pressed')).toBe('true')

    await userEvent.click(screen.getByTestId('range-7d'))
    expect(router.state.location.search).toBe('?range=7d&groupBy=day')
    const [, from, to] = /from=(\d+)&to=(\d+)/.exec(calls.at(-1)!.url)!
    expect(Number(to) - Number(from)).toBe(7 * 86_400_000)
  })

  it('takes chosen days for a custom range', async () => {
    const { calls } = stubFetch({ 'GET /admin/api/usage': { body: report('model', [group('tiny')]) } })
    const router = open('/usage?range=custom&from=2025-01-01&to=2025-01-31')
    await screen.findAllByTestId('usage-row')
    expect((screen.getByLabelText('From') as HTMLInputElement).value).toBe('2025-01-01')
    expect(calls[0]!.url).toContain(`from=${new Date(2025, 0, 1).getTime()}&to=${new Date(2025, 1, 1).getTime()}`)
    fireEvent.change(screen.getByLabelText('To (included)'), { target: { value: '2025-01-15' } })
    await waitFor(() => expect(calls).toHaveLength(2))
    expect(router.state.location.search).toBe('?range=custom&from=2025-01-01&to=2025-01-15')
  })

  it('says plainly when the range holds no request', async () => {
    stubFetch({ 'GET /admin/api/usage': { body: report('model', []) } })
    open()
    expect((await screen.findByTestId('state-empty')).textContent).toContain('No requests in this range')
    expect(screen.queryByTestId('usage-table')).toBeNull()
  })

  it('shows a refusal with its message, and tries again', async () => {
    let fail = true
    stubFetch({
      'GET /admin/api/usage': () =>
        fail ? { status: 400, body: errorBody('from must be before to') } : { body: report('model', [group('tiny')]) },
    })
    open()
    expect((await screen.findByTestId('state-error')).textContent).toContain('from must be before to')
    fail = false
    await userEvent.click(screen.getByRole('button', { name: 'Try again' }))
    expect(await screen.findAllByTestId('usage-row')).toHaveLength(1)
  })

  it('says when the gateway is too old to report usage', async () => {
    stubFetch({})
    open()
    expect((await screen.findByTestId('state-missing')).textContent).toContain('Usage needs a newer Cortex')
  })
})
