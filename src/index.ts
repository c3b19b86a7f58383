import './polyfill.js'

export * from './node/index.js'
export { DEFAULT_SWARM, swarmTopics, InvalidSwarmNameError, type SwarmTopics } from './pubsub/topics.js'
export { VERSION } from './version.js'
