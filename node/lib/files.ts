// `dw.files`: objects (avatars, attachments) in the store `filesUrl` names.

import type { FileData, FileInfo, FileListOptions, FilePage, Files as NativeFiles } from '../binding'
import { call, options } from './call'

/** Objects: `dw.files`, the addon's methods with errors converted. */
export class Files implements NativeFiles {
  readonly #native: NativeFiles

  /** Wraps the addon's object: `dw.files` makes one. */
  constructor(native: NativeFiles) {
    this.#native = native
  }

  put(key: string, data: Buffer | Uint8Array, contentType?: string | null): Promise<FileInfo> {
    return call(() => this.#native.put(key, data, contentType))
  }

  putFile(key: string, path: string, contentType?: string | null): Promise<FileInfo> {
    return call(() => this.#native.putFile(key, path, contentType))
  }

  get(key: string): Promise<FileData> {
    return call(() => this.#native.get(key))
  }

  getToFile(key: string, path: string): Promise<FileInfo> {
    return call(() => this.#native.getToFile(key, path))
  }

  head(key: string): Promise<FileInfo> {
    return call(() => this.#native.head(key))
  }

  delete(key: string): Promise<boolean> {
    return call(() => this.#native.delete(key))
  }

  list(listOptions?: FileListOptions | null): Promise<FilePage> {
    return call(() => this.#native.list(options(listOptions, 'argument 1 of list')))
  }

  presignGet(key: string, expiresInSecs: number): Promise<string> {
    return call(() => this.#native.presignGet(key, expiresInSecs))
  }

  presignPut(key: string, expiresInSecs: number): Promise<string> {
    return call(() => this.#native.presignPut(key, expiresInSecs))
  }
}
