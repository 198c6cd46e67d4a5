// `dw.users`: accounts. Every User and Identity it returns keeps its email
// address out of util.inspect, and every exported UserRow its address and
// hash too (hide.ts).

import type {
  FlowStarted,
  Identity,
  ImportOptions,
  ImportReport,
  Page,
  User,
  UserExportOptions,
  UserRow,
  UserRowPage,
  UserUpdate,
  Users as NativeUsers,
} from '../binding'
import { array, call, options } from './call'
import * as hide from './hide'

/**
 * Accounts: `dw.users`. The methods are the addon's (their documentation
 * comes with `implements`), with errors converted and results made safe to
 * log.
 */
export class Users implements NativeUsers {
  readonly #native: NativeUsers

  /** Wraps the addon's object: `dw.users` makes one. */
  constructor(native: NativeUsers) {
    this.#native = native
  }

  async create(username: string, email: string, password: string): Promise<User> {
    return hide.email(await call(() => this.#native.create(username, email, password)))
  }

  async get(userId: string): Promise<User> {
    return hide.email(await call(() => this.#native.get(userId)))
  }

  async getByEmail(email: string): Promise<User> {
    return hide.email(await call(() => this.#native.getByEmail(email)))
  }

  async getByUsername(username: string): Promise<User> {
    return hide.email(await call(() => this.#native.getByUsername(username)))
  }

  async list(cursor?: string | null, limit?: number | null): Promise<Page> {
    const page = await call(() => this.#native.list(cursor, limit))
    page.items.forEach(hide.email)
    return page
  }

  async search(query: string, cursor?: string | null, limit?: number | null): Promise<Page> {
    const page = await call(() => this.#native.search(query, cursor, limit))
    page.items.forEach(hide.email)
    return page
  }

  importUsers(rows: readonly UserRow[], importOptions?: ImportOptions | null): Promise<ImportReport> {
    return call(() =>
      this.#native.importUsers(
        array(rows, 'argument 1 of importUsers'),
        options(importOptions, 'argument 2 of importUsers'),
      ),
    )
  }

  async exportUsers(
    cursor?: string | null,
    limit?: number | null,
    exportOptions?: UserExportOptions | null,
  ): Promise<UserRowPage> {
    const page = await call(() =>
      this.#native.exportUsers(cursor, limit, options(exportOptions, 'argument 3 of exportUsers')),
    )
    page.items.forEach(hide.userRow)
    return page
  }

  /** How many accounts there are, disabled ones included. */
  count(): Promise<number> {
    return call(() => this.#native.count())
  }

  async update(userId: string, update: UserUpdate): Promise<User> {
    return hide.email(await call(() => this.#native.update(userId, options(update, 'argument 2 of update'))))
  }

  changePassword(
    userId: string,
    oldPassword: string,
    newPassword: string,
    keepSession?: string | null,
  ): Promise<void> {
    return call(() => this.#native.changePassword(userId, oldPassword, newPassword, keepSession))
  }

  setPassword(userId: string, newPassword: string): Promise<void> {
    return call(() => this.#native.setPassword(userId, newPassword))
  }

  requestEmailChange(userId: string, newEmail: string, password: string): Promise<FlowStarted> {
    return call(() => this.#native.requestEmailChange(userId, newEmail, password))
  }

  async confirmEmailChange(flowId: string, secret: string): Promise<User> {
    return hide.email(await call(() => this.#native.confirmEmailChange(flowId, secret)))
  }

  async markEmailVerified(userId: string): Promise<User> {
    return hide.email(await call(() => this.#native.markEmailVerified(userId)))
  }

  disable(userId: string): Promise<void> {
    return call(() => this.#native.disable(userId))
  }

  enable(userId: string): Promise<void> {
    return call(() => this.#native.enable(userId))
  }

  unlock(userId: string): Promise<boolean> {
    return call(() => this.#native.unlock(userId))
  }

  delete(userId: string): Promise<void> {
    return call(() => this.#native.delete(userId))
  }

  async identities(userId: string): Promise<Identity[]> {
    const found = await call(() => this.#native.identities(userId))
    found.forEach(hide.identity)
    return found
  }
}
