/**
 * Topic names. Every swarmdrop topic starts with `/swarmdrop/`, carries the
 * protocol version and the swarm's name, so two swarms (or two protocol
 * versions) on one LAN never share a topic. Users' own topics may not use
 * the `/swarmdrop/` prefix.
 */

export const PROTOCOL_VERSION = 1

export const RESERVED_PREFIX = '/swarmdrop/'

export const DEFAULT_SWARM = 'default'

const SWARM_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

export class InvalidSwarmNameError extends Error {
  static override name = 'InvalidSwarmNameError'
  readonly value: string

  constructor (value: string) {
    super(`"${value}" is not a valid swarm name: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit`)
    this.name = 'InvalidSwarmNameError'
    this.value = value
  }
}

export function validateSwarmName (swarm: string): string {
  if (!SWARM_NAME.test(swarm)) throw new InvalidSwarmNameError(swarm)
  return swarm
}

export interface SwarmTopics {
  /** announce, withdraw, have, hello: what exists and who has it. */
  announce: string
  /** want and catalog requests. */
  request: string
}

export function swarmTopics (swarm: string): SwarmTopics {
  validateSwarmName(swarm)
  return {
    announce: `${RESERVED_PREFIX}${PROTOCOL_VERSION}/${swarm}/announce`,
    request: `${RESERVED_PREFIX}${PROTOCOL_VERSION}/${swarm}/request`
  }
}

export function isReservedTopic (topic: string): boolean {
  return topic.startsWith(RESERVED_PREFIX)
}
