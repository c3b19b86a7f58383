/**
 * The one logger of swarmdrop: libp2p's debug logger, so `DEBUG=swarmdrop:*`
 * (or `DEBUG=swarmdrop:*,libp2p:*`) turns logs on. Formatters: `%p` peer id,
 * `%e` error, `%a` multiaddr.
 *
 * `@libp2p/logger` is the one libp2p package imported outside `src/net`: it is a
 * thin layer over `debug` with libp2p's formatters and has the same API on the
 * libp2p 2 and 3 lines, so it does not tie the lower layers to the network stack.
 *
 * Components take a `ComponentLogger` and call `forComponent('transfer')`; a node
 * built with a log prefix (its name) logs as `swarmdrop:<prefix>:<component>`,
 * so several nodes in one process (tests, the demo) can be told apart.
 */
import { logger } from '@libp2p/logger'

export type Logger = ReturnType<typeof logger>

export interface ComponentLogger {
  /** A logger for one component, e.g. `forComponent('transfer')` → `swarmdrop[:prefix]:transfer`. */
  forComponent: (component: string) => Logger
}

/** Keeps a prefix to what `debug` namespaces allow (no spaces or commas, which separate DEBUG patterns). */
function namespacePart (prefix: string): string {
  return prefix.replace(/[\s,*:]+/g, '-').slice(0, 64)
}

/** A component logger; with a prefix (a node's name), every namespace carries it. */
export function createComponentLogger (prefix?: string): ComponentLogger {
  const base = prefix == null || prefix === '' ? 'swarmdrop' : `swarmdrop:${namespacePart(prefix)}`
  return { forComponent: (component) => logger(`${base}:${component}`) }
}

/** A logger for one component of no particular node (`swarmdrop:<component>`). */
export function createLogger (component: string): Logger {
  return logger(`swarmdrop:${component}`)
}
