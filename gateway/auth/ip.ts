import { BlockList, isIPv4, isIPv6 } from 'node:net'

const MAPPED_V4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i

/** A socket address as a client would write it: `::ffff:10.0.0.1` (an IPv4 client on a dual-stack socket) is 10.0.0.1. */
export function plainAddress(address: string): string {
  return MAPPED_V4.exec(address)?.[1] ?? address
}

export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false
  const plain = plainAddress(address)
  return plain === '::1' || (isIPv4(plain) && plain.startsWith('127.'))
}

/** Allowlists by their entries: keys never change their list, so each list is parsed once. */
const lists = new Map<string, BlockList>()

function blockList(cidrs: readonly string[]): BlockList {
  const id = cidrs.join(',')
  let list = lists.get(id)
  if (list === undefined) {
    list = new BlockList()
    for (const entry of cidrs) {
      const [address, bits] = entry.split('/') as [string, string | undefined]
      const v6 = isIPv6(address)
      list.addSubnet(address, bits === undefined ? (v6 ? 128 : 32) : Number(bits), v6 ? 'ipv6' : 'ipv4')
    }
    lists.set(id, list)
  }
  return list
}

/** Whether the socket address is inside one of the CIDRs (validated when the key was made: auth/keys.ts). */
export function ipAllowed(cidrs: readonly string[], address: string | undefined): boolean {
  if (address === undefined) return false
  const plain = plainAddress(address)
  // BlockList matches an IPv4 address against IPv4-mapped IPv6 entries too, and the reverse.
  const family = isIPv6(plain) ? 'ipv6' : isIPv4(plain) ? 'ipv4' : null
  return family !== null && blockList(cidrs).check(plain, family)
}
