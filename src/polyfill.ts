/**
 * Loaded first by every entry point (library, CLI, tests, benchmarks).
 *
 * Node.js 20 lacks `Promise.withResolvers` (added in Node 22), and some of
 * libp2p's dependencies call it. Node 22 and 24 keep their native version.
 */

interface Resolvers<T> {
  promise: Promise<T>
  resolve: (value: T | PromiseLike<T>) => void
  reject: (reason?: unknown) => void
}

const P = Promise as unknown as { withResolvers?: <T>() => Resolvers<T> }

if (typeof P.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T> (): Resolvers<T> {
      let resolve!: Resolvers<T>['resolve']
      let reject!: Resolvers<T>['reject']
      const promise = new Promise<T>((_resolve, _reject) => {
        resolve = _resolve
        reject = _reject
      })
      return { promise, resolve, reject }
    }
  })
}

export {}
