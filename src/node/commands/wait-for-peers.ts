/**
 * Wait for peers of the swarm: peers subscribed to the swarm's request topic (so they can
 * answer a `want` and serve blocks), not merely connected libp2p peers.
 */
import { WaitTimeoutError, waitFor } from '../../util/wait.js'
import { NoPeersError } from '../errors.js'
import type { CommandContext } from './context.js'

export interface WaitForPeersOptions {
  /** How many peers of the swarm to wait for (default 1). */
  count?: number
  /** Give up after this many ms with NoPeersError (default 30 000). */
  timeout?: number
  signal?: AbortSignal
}

export const WAIT_FOR_PEERS_TIMEOUT = 30_000

/** Resolves with the ids of the swarm's peers once there are `count`; NoPeersError at the timeout. */
export async function waitForPeers (c: CommandContext, options: WaitForPeersOptions = {}): Promise<string[]> {
  const count = options.count ?? 1
  const timeout = options.timeout ?? WAIT_FOR_PEERS_TIMEOUT
  const peers = (): string[] => c.network.getSubscribers(c.topics.request)
  try {
    await waitFor(() => peers().length >= count, { timeout, ...(options.signal != null ? { signal: options.signal } : {}) })
  } catch (err) {
    if (err instanceof WaitTimeoutError) throw new NoPeersError(count, peers().length, timeout)
    throw err
  }
  return peers()
}
