/**
 * Topic names. Every swarmdrop topic starts with `/swarmdrop/`, carries the
 * protocol version and the swarm's name, so two swarms (or two protocol
 * versions) on one LAN never share a topic. Users' own topics may not use
 * the `/swarmdrop/` prefix.
 */

import { InvalidSwarmNameError } from './errors.js'

export { InvalidSwarmNameError }

/** Version of the protocol: in every topic name and every message. */
export const PROTOCOL_VERSION = 1

export const RESERVED_PREFIX = '/swarmdrop/'

export const DEFAULT_SWARM = 'default'

const SWARM_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

export function validateSwarmName (swarm: string): string {
  if (!SWARM_NAME.test(swarm)) throw new InvalidSwarmNameError(swarm)
  return swarm
}

export interface SwarmTopics {
  /** hello, announce, withdraw, have, catalog answers: what exists and who has it. */
  announce: string
  /** want and catalog requests: questions, answered on the announce topic. */
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

/** Users' own topics (`pub`/`sub`) live under this prefix, scoped to a swarm. */
export const USER_TOPIC_PREFIX = `/swarmdrop-topic/${PROTOCOL_VERSION}/`

/**
 * The wire topic of a user's topic: `/swarmdrop-topic/1/<swarm>/<topic>` so nodes of another
 * swarm (or private swarm) never see it; `global` keeps the name as given, shared by every swarm.
 */
export function userTopic (swarm: string, topic: string, global = false): string {
  return global ? topic : `${USER_TOPIC_PREFIX}${validateSwarmName(swarm)}/${topic}`
}
