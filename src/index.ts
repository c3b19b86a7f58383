import './polyfill.js'

export * from './node/index.js'
export * from './pubsub/index.js'
export * from './storage/index.js'
export { VERSION } from './version.js'
