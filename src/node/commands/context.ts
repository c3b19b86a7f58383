/** What the node's commands (share, fetch, get, ls, wait-for-peers) are given: the node's parts. */
import type { Network } from '../../net/index.js'
import type { SwarmProtocol } from '../../pubsub/index.js'
import type { Store } from '../../storage/index.js'
import type { Transfer } from '../../transfer/index.js'
import type { SwarmTopics } from '../../pubsub/index.js'
import type { Logger } from '../../util/logger.js'

export interface CommandContext {
  store: Store
  protocol: SwarmProtocol
  transfer: Transfer
  network: Pick<Network, 'getSubscribers' | 'connections' | 'peerId'>
  topics: SwarmTopics
  log: Logger
}
