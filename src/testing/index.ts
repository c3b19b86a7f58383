/**
 * `swarmdrop/testing`: a local swarm for your tests.
 *
 * Starts N nodes in this process on 127.0.0.1 (a free port each, temp repositories, no mDNS),
 * each logging as `swarmdrop:node-<i>:*`, waits until every node has joined the gossipsub mesh
 * of the swarm's topics, and stops and deletes everything at teardown. Each node keeps its port
 * and redials the nodes it joined: a node stopped and started again (`node.stop()`,
 * `node.start()`) is back in the swarm by itself; `swarm.waitForMesh()` waits for it (and dials
 * the links still down). Not so a node added with `start: false`, which the caller dials, nor one
 * given `stablePort: false`, which comes back on another port. `swarm.removeNode(node)` stops a
 * node for good: the others forget it and no longer redial it.
 *
 * @example
 * ```ts
 * import { test } from 'node:test'
 * import { createLocalSwarm } from 'swarmdrop/testing'
 *
 * test('three nodes', async (t) => {
 *   const { nodes: [a, b] } = await createLocalSwarm(3, t)
 *   const { cid } = await a.share(new TextEncoder().encode('hi'), { name: 'hi.txt' })
 *   await b.fetch(cid)
 * })
 * ```
 * or, without a test runner: `await using swarm = await createLocalSwarm(3)`.
 */
import { existsSync } from 'node:fs'
import { startLocalSwarm, type LocalSwarm as NodeLocalSwarm, type LocalSwarmInit as NodeLocalSwarmInit } from '../node/index.js'

export interface LocalSwarmInit extends NodeLocalSwarmInit {
  /**
   * Keep every repository (identity and store) in memory: on the RAM-backed tmpfs
   * `/dev/shm` where the system has one (else the OS temp dir). Nothing touches the disk,
   * and the store is the real one (default false).
   */
  memory?: boolean
}

export interface LocalSwarm extends NodeLocalSwarm {
  /** Same as stop(), for `await using`. */
  [Symbol.asyncDispose]: () => Promise<void>
}

/** Where the stop is registered: a `node:test` context (`t`), or a function taking the cleanup. */
export type Teardown = ((fn: () => Promise<void>) => unknown) | { after: (fn: () => Promise<void>) => unknown }

/** The RAM-backed folder for `memory: true`. */
export const MEMORY_DIR = '/dev/shm'

/**
 * Starts a local swarm of `size` nodes (or as `init` says); with `teardown` (e.g. the test's
 * `t`), its stop is registered there, so it runs even when the test fails.
 */
export async function createLocalSwarm (sizeOrInit: number | LocalSwarmInit = {}, teardown?: Teardown): Promise<LocalSwarm> {
  const init: LocalSwarmInit = typeof sizeOrInit === 'number' ? { size: sizeOrInit } : sizeOrInit
  const dir = init.dir ?? (init.memory === true && existsSync(MEMORY_DIR) ? MEMORY_DIR : undefined)
  const swarm = await startLocalSwarm({ ...init, ...(dir != null ? { dir } : {}) })
  if (teardown != null) {
    const stop = async (): Promise<void> => { await swarm.stop() }
    if (typeof teardown === 'function') teardown(stop)
    else teardown.after(stop)
  }
  return Object.assign(swarm, { [Symbol.asyncDispose]: swarm.stop })
}
