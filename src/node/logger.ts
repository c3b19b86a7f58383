/**
 * The one logger of swarmdrop: libp2p's debug logger, so `DEBUG=swarmdrop:*`
 * (or `DEBUG=swarmdrop:*,libp2p:*`) turns logs on. Formatters: `%p` peer id,
 * `%e` error, `%a` multiaddr. Every module takes its logger from here, so
 * libp2p stays behind `src/node`.
 */
import { logger } from '@libp2p/logger'

export type Logger = ReturnType<typeof logger>

export function createLogger (component: string): Logger {
  return logger(`swarmdrop:${component}`)
}
