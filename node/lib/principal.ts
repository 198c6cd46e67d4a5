// A verified token's `Principal`, made here of the values the addon gives.

import type { Principal, PrincipalParts } from '../binding'

/**
 * The `Principal` of the values the addon gives (bindings/node/src/principal.rs,
 * `PrincipalParts`), as arguments: the synchronous roads call it from the
 * addon. An object literal here costs a fraction of an object built through
 * N-API, which was most of a stateless verification.
 */
export function principalOf(
  userId: string,
  username: string,
  sessionId: string,
  roles: string | string[],
  expiresAt: number,
  amr: string | string[],
  aal: number,
  authTime: number,
): Principal {
  return {
    userId,
    username,
    sessionId,
    roles: names(roles),
    expiresAt: new Date(expiresAt),
    amr: names(amr),
    aal,
    authTime: new Date(authTime),
  }
}

/**
 * Role names or `amr` values as the addon gives them (`Names` in
 * bindings/node/src/principal.rs): joined by spaces when none is empty or
 * holds one, else the array.
 */
function names(list: string | string[]): string[] {
  if (typeof list !== 'string') return list
  if (list === '') return []
  // Not `split`, a call into the runtime that cost as much as the N-API
  // array it replaced: this loop is compiled to a few instructions a name.
  const out: string[] = []
  let start = 0
  for (let at = list.indexOf(' '); at >= 0; at = list.indexOf(' ', start)) {
    out.push(list.slice(start, at))
    start = at + 1
  }
  out.push(start === 0 ? list : list.slice(start))
  return out
}

/** The same, of the values in one array (the async road). */
export function principal(parts: PrincipalParts): Principal {
  return principalOf(...parts)
}
