/**
 * A typed EventTarget: `addEventListener('peer:connect', e => e.detail.id)`
 * is checked against the event map of the emitter.
 */
import { setMaxListeners } from 'node:events'

export type EventMap = object

export type Listener<T> = ((evt: CustomEvent<T>) => void) | { handleEvent: (evt: CustomEvent<T>) => void }

export class TypedEventEmitter<Events extends EventMap> extends EventTarget {
  /** Type-level only: lets helpers such as once() infer the event map. */
  declare readonly __events?: Events

  constructor () {
    super()
    // every download listens to the node's network and protocol while it runs (and removes its
    // listeners when it ends): twelve at once are no leak, yet Node warns from eleven
    // (MaxListenersExceededWarning). libp2p's own TypedEventEmitter does the same
    setMaxListeners(Infinity, this)
  }

  override addEventListener<K extends keyof Events & string> (type: K, listener: Listener<Events[K]> | null, options?: boolean | { once?: boolean, signal?: AbortSignal }): void {
    super.addEventListener(type, listener as any, options)
  }

  override removeEventListener<K extends keyof Events & string> (type: K, listener?: Listener<Events[K]> | null, options?: boolean | { capture?: boolean }): void {
    super.removeEventListener(type, (listener ?? null) as any, options)
  }

  safeDispatchEvent<K extends keyof Events & string> (type: K, detail: Events[K]): boolean {
    return this.dispatchEvent(new CustomEvent(type, { detail }))
  }
}

/** Resolves with the detail of the next `type` event, rejects on abort. */
export async function once<Events extends EventMap, K extends keyof Events & string> (
  emitter: TypedEventEmitter<Events>,
  type: K,
  options: { signal?: AbortSignal, filter?: (detail: Events[K]) => boolean } = {}
): Promise<Events[K]> {
  options.signal?.throwIfAborted()
  return new Promise((resolve, reject) => {
    const onEvent = (evt: CustomEvent<Events[K]>): void => {
      if (options.filter != null && !options.filter(evt.detail)) return
      cleanup()
      resolve(evt.detail)
    }
    const onAbort = (): void => {
      cleanup()
      reject(options.signal?.reason)
    }
    const cleanup = (): void => {
      emitter.removeEventListener(type, onEvent)
      options.signal?.removeEventListener('abort', onAbort)
    }
    emitter.addEventListener(type, onEvent)
    options.signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * `options` with a signal of this call's own in place of the caller's: it aborts when the
 * caller's does (with its reason) and adds no listener to it. A caller may share one signal
 * among many calls at once (one AbortController for a batch of downloads), and each call
 * listens to its signal in several places while it runs: on the caller's own signal that drew
 * Node's MaxListenersExceededWarning from eleven calls, and the caller's signal is theirs to
 * configure, not ours (no setMaxListeners on it). AbortSignal.any links the two with a weak
 * reference, not an event listener.
 */
export function ownSignal<T extends { signal?: AbortSignal }> (options: T): T {
  const signal = options.signal
  if (signal == null || signal.aborted) return options
  return { ...options, signal: AbortSignal.any([signal]) }
}
