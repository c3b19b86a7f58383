/**
 * createSwarmNode(init, components?): resolves the defaults, makes the components not
 * handed in (store, network, logger), builds the node and (unless `start: false`) starts it.
 */
import { hostname } from 'node:os'
import { join, resolve } from 'node:path'
import { createNetwork, loadOrCreateIdentity, parseMultiaddr, parseSwarmKey, stableListen } from '../net/index.js'
import { DEFAULT_SWARM, swarmTopics, validateSwarmName } from '../pubsub/topics.js'
import { createStore } from '../storage/index.js'
import { createComponentLogger } from '../util/logger.js'
import { DEFAULT_LISTEN } from './constants.js'
import { agentString, truncateName } from './names.js'
import { installPromiseWithResolvers } from './node20.js'
import { ensureRepo } from './repo.js'
import { SwarmNode, type SwarmNodeComponents, type SwarmNodeInit } from './swarm-node.js'

/**
 * Creates a node and (unless `init.start` is false) starts it. A test may hand in any of its
 * components: a store (never closed by the node), a network, a logger.
 */
export async function createSwarmNode (init: SwarmNodeInit, components: Partial<SwarmNodeComponents> = {}): Promise<SwarmNode> {
  installPromiseWithResolvers()
  const repo = resolve(init.repo)
  const swarm = validateSwarmName(init.swarm ?? DEFAULT_SWARM)
  const name = truncateName(init.name ?? hostname())
  const listen = init.listen ?? DEFAULT_LISTEN
  for (const a of [...listen, ...(init.bootstrap ?? []), ...(init.relays ?? []), ...(init.announce ?? [])]) parseMultiaddr(a)
  await ensureRepo(repo)
  const logger = components.logger ?? createComponentLogger(init.logPrefix)
  const store = components.store ?? await createStore({ path: join(repo, 'store') }, { logger })
  let node: SwarmNode
  try {
    // the remembered port (docs/CLI.md, "Listening port") replaces port 0 when it is free
    const stable = init.stablePort === true && components.network == null ? await stableListen(repo, listen) : { listen }
    // seam: NetworkInit takes no logger yet; pass logger.forComponent('network') once it does
    const network = components.network ?? await createNetwork({
      privateKey: await loadOrCreateIdentity(repo),
      listen: stable.listen,
      mdns: init.mdns ?? true,
      mdnsInterval: init.mdnsInterval,
      agent: agentString(),
      swarmKey: init.swarmKey == null ? undefined : parseSwarmKey(init.swarmKey),
      scoredTopics: [swarmTopics(swarm).announce, swarmTopics(swarm).request],
      gossipsub: init.gossipsub,
      relayService: init.relayService,
      relays: init.relays,
      announce: init.announce,
      ...(init.peerExchange !== false ? { peerExchangeTopic: swarmTopics(swarm).announce } : {})
    })
    node = new SwarmNode({ ...init, repo, swarm, name }, { network, store, logger }, components.store == null)
    if ('fallback' in stable && stable.fallback != null) node.listenNote = `port ${stable.remembered ?? '?'} (remembered in ${join(repo, 'listen-port')}) is ${stable.fallback}: listening on a random port this time`
    if (init.start !== false) await node.start()
  } catch (err) {
    // nothing stays open when a node cannot be built or started
    if (components.store == null) await store.close().catch(() => {})
    throw err
  }
  return node
}
