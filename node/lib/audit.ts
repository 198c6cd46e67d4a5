// `dw.audit`: the hash-chained audit log.

import type {
  Audit as NativeAudit,
  AuditExportOptions,
  AuditListOptions,
  AuditPage,
  AuditVerification,
} from '../binding'
import { call, options } from './call'

/** The audit log: `dw.audit`, the addon's methods with errors converted. */
export class Audit implements NativeAudit {
  readonly #native: NativeAudit

  /** Wraps the addon's object: `dw.audit` makes one. */
  constructor(native: NativeAudit) {
    this.#native = native
  }

  list(listOptions?: AuditListOptions | null): Promise<AuditPage> {
    return call(() => this.#native.list(options(listOptions, 'argument 1 of list')))
  }

  export(exportOptions?: AuditExportOptions | null): Promise<string> {
    return call(() => this.#native.export(options(exportOptions, 'argument 1 of export')))
  }

  verify(): Promise<AuditVerification> {
    return call(() => this.#native.verify())
  }
}
