import { findOrg } from '../../auth/keys.js'
import type { AdminCaller, OrgRepo } from '../../auth/types.js'
import { CortexError } from '../../contract/errors.js'
import { USAGE_INSTANT_FORM, UsageQuery, type UsageReport, type UsageReportQuery } from '../../contract/index.js'
import { usageCsv } from '../../store/usage-report.js'
import type { AdminApp } from './index.js'

export interface UsageRouteDeps {
  report: (query: UsageReportQuery) => UsageReport
  orgs: OrgRepo
  /** The clock the default range ends at. */
  now?: () => number
}

const DEFAULT_RANGE_MS = 30 * 86_400_000

/** `/usage`: requests, errors, tokens, bytes and latency percentiles per model, key, organization or UTC day. */
export function usageRoutes(app: AdminApp, deps: UsageRouteDeps): void {
  const now = deps.now ?? Date.now
  app.get('/usage', { schema: { querystring: UsageQuery } }, (req, reply) => {
    const groupBy = req.query.groupBy ?? 'model'
    const to = req.query.to === undefined ? now() : parseInstant(req.query.to, 'to')
    const from = req.query.from === undefined ? to - DEFAULT_RANGE_MS : parseInstant(req.query.from, 'from')
    if (from >= to) {
      throw new CortexError(
        'invalid_request',
        `from (${new Date(from).toISOString()}) must be before to (${new Date(to).toISOString()}); to is exclusive`,
        { param: 'from' },
      )
    }
    // Looked up for the admin only: the lookup's error lists every organization.
    if (req.query.org !== undefined && req.adminCaller.kind === 'key') {
      throw new CortexError('scope_not_allowed', 'an API key reads its own organization’s usage: leave out ?org=')
    }
    if (req.query.org !== undefined && req.adminCaller.kind === 'member') {
      throw new CortexError('role_not_allowed', 'a member reads their own organization’s usage: leave out ?org=')
    }
    const org = req.query.org === undefined ? {} : { orgId: findOrg(req.query.org, deps.orgs).id }
    const report = deps.report({ groupBy, from, to, ...org, ...scopeOf(req.adminCaller) })
    if (req.query.format !== 'csv') return report
    const file = `cortex-usage-${groupBy}-${fileStamp(from)}-${fileStamp(to)}.csv`
    reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${file}"`)
    return usageCsv(report)
  })
}

/** An `admin:read` key sees its organization's usage, or only its own when it belongs to none; a member, their organization's. */
function scopeOf(caller: AdminCaller): Pick<UsageReportQuery, 'orgId' | 'keyId'> {
  if (caller.kind === 'admin') return {}
  if (caller.kind === 'member') return { orgId: caller.user.orgId }
  return caller.key.orgId !== null ? { orgId: caller.key.orgId } : { keyId: caller.key.id }
}

type Six = [number, number, number, number, number, number]
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|([+ -])(\d{2}):?(\d{2}))?)?$/

/**
 * Epoch ms from the query's forms. A time without an offset is UTC, not the server's zone, so the same URL means the
 * same range wherever Cortex runs. Calendar checks are done here because Date.parse rolls 2025-02-30 into March.
 */
function parseInstant(text: string, param: 'from' | 'to'): number {
  const invalid = () => new CortexError('invalid_request', `${param}: expected ${USAGE_INSTANT_FORM} (got "${text}")`, { param })
  if (/^\d+$/.test(text)) {
    const ms = Number(text)
    if (!Number.isSafeInteger(ms) || ms > 8.64e15) throw invalid()
    return ms
  }
  const m = ISO.exec(text)
  if (m === null) throw invalid()
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map((part) => Number(part ?? 0)) as Six
  const millis = Number((m[7] ?? '').padEnd(3, '0').slice(0, 3))
  const local = Date.UTC(year, month - 1, day, hour, minute, second, millis)
  const back = new Date(local)
  const sameDay = back.getUTCFullYear() === year && back.getUTCMonth() === month - 1 && back.getUTCDate() === day
  if (!sameDay || hour > 23 || minute > 59 || second > 59) throw invalid()
  // `+` arrives as a space when the client did not percent-encode it.
  const sign = m[9] === '-' ? -1 : 1
  const offsetMinutes = m[10] === undefined ? 0 : sign * (Number(m[10]) * 60 + Number(m[11]))
  if (Math.abs(offsetMinutes) > 18 * 60) throw invalid()
  return local - offsetMinutes * 60_000
}

/** 2025-01-31 for a midnight, else 2025-01-31T12-00-00Z: readable, and a valid file name everywhere. */
function fileStamp(ms: number): string {
  const iso = new Date(ms).toISOString()
  if (iso.endsWith('T00:00:00.000Z')) return iso.slice(0, 10)
  return iso.replace('.000Z', 'Z').replace(/[:.]/g, '-')
}
