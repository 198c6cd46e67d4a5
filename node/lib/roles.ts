// `dw.roles`: roles and grants.

import type { Role, Roles as NativeRoles } from '../binding'
import { call } from './call'

/** Roles and grants: `dw.roles`, the addon's methods with errors converted. */
export class Roles implements NativeRoles {
  readonly #native: NativeRoles

  /** Wraps the addon's object: `dw.roles` makes one. */
  constructor(native: NativeRoles) {
    this.#native = native
  }

  list(): Promise<Role[]> {
    return call(() => this.#native.list())
  }

  get(name: string): Promise<Role> {
    return call(() => this.#native.get(name))
  }

  create(name: string, permissions: string[], description?: string | null): Promise<Role> {
    return call(() => this.#native.create(name, permissions, description))
  }

  delete(name: string): Promise<void> {
    return call(() => this.#native.delete(name))
  }

  grant(userId: string, name: string): Promise<boolean> {
    return call(() => this.#native.grant(userId, name))
  }

  revoke(userId: string, name: string): Promise<boolean> {
    return call(() => this.#native.revoke(userId, name))
  }

  ofUser(userId: string): Promise<string[]> {
    return call(() => this.#native.ofUser(userId))
  }
}
