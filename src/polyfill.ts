/**
 * Loaded first by the CLI entry, the tests and the benchmarks (never by `import 'swarmdrop'`):
 * adds `Promise.withResolvers` on Node.js 20, which some of libp2p's dependencies call.
 * Library users need nothing: createSwarmNode() does the same before it builds a network
 * (src/node/node20.ts).
 */
import { installPromiseWithResolvers } from './node/node20.js'

installPromiseWithResolvers()
