/**
 * Node.js 20 lacks `Promise.withResolvers` (added in Node 22) and some of libp2p's
 * dependencies (it-queue, mortice) call it. Importing swarmdrop patches nothing:
 * createSwarmNode() calls installPromiseWithResolvers() before it builds a network, so the
 * method is added only on Node 20 and only once a libp2p node is made. The CLI entry, the
 * tests and the benchmarks load src/polyfill.ts, which calls it at once.
 */

interface Resolvers<T> {
  promise: Promise<T>
  resolve: (value: T | PromiseLike<T>) => void
  reject: (reason?: unknown) => void
}

/** A local `Promise.withResolvers`, for swarmdrop's own code: never touches the global. */
export function withResolvers<T> (): Resolvers<T> {
  let resolve!: Resolvers<T>['resolve']
  let reject!: Resolvers<T>['reject']
  const promise = new Promise<T>((_resolve, _reject) => {
    resolve = _resolve
    reject = _reject
  })
  return { promise, resolve, reject }
}

/** Adds `Promise.withResolvers` where the runtime lacks it (Node 20); a no-op on Node 22 and later. */
export function installPromiseWithResolvers (): void {
  const P = Promise as unknown as { withResolvers?: unknown }
  if (typeof P.withResolvers === 'function') return
  Object.defineProperty(Promise, 'withResolvers', { configurable: true, writable: true, value: withResolvers })
}
