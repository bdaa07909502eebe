import type { ApiKeyRecord } from '../contract/keys.js'
import type { RouteClients, RouteTarget } from '../contract/routes.js'

/** Who sends a request, as a target's `clients` rule reads it. */
export interface Caller {
  key: ApiKeyRecord | null
  /** The name of the key's organization, when it has one. */
  orgName: string | undefined
  header(name: string): string | undefined
}

/** Whether the prompt estimate is within the target's bounds (both inclusive; unset = unbounded). */
export function promptMatches(t: Pick<RouteTarget, 'minPromptTokens' | 'maxPromptTokens'>, promptTokens: number): boolean {
  return (
    (t.minPromptTokens === undefined || promptTokens >= t.minPromptTokens) &&
    (t.maxPromptTokens === undefined || promptTokens <= t.maxPromptTokens)
  )
}

/** Whether the caller is one the rule lists: any one of its lists matching is enough; no rule = every caller. */
export function clientMatches(rule: RouteClients | undefined, caller: Caller): boolean {
  if (rule === undefined) return true
  const { key } = caller
  if (rule.keys && key !== null && (rule.keys.includes(key.name) || rule.keys.includes(key.id))) return true
  if (rule.tags && key !== null && key.tags.some((tag) => rule.tags!.includes(tag))) return true
  if (
    rule.orgs &&
    key?.orgId &&
    (rule.orgs.includes(key.orgId) || (caller.orgName !== undefined && rule.orgs.includes(caller.orgName)))
  ) {
    return true
  }
  if (rule.header) {
    const value = caller.header(rule.header.name.toLowerCase())
    if (value !== undefined && rule.header.values.includes(value)) return true
  }
  return false
}
