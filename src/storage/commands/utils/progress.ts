import { CustomProgressEvent } from 'progress-events'
import type { StoreOptions, StoreProgressEvent } from '../../index.js'

/** Emits one typed progress event (`'store:<op>:<phase>'`) to the caller's onProgress. */
export function progress (options: StoreOptions, type: StoreProgressEvent['type'], detail: StoreProgressEvent['detail']): void {
  options.onProgress?.(new CustomProgressEvent(type, detail) as StoreProgressEvent)
}
