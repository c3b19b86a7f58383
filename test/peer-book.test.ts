/**
 * Issue 18, identity churn: peers that come and go (identities are free) leave a bounded
 * trace — the connected ones, the most recent leavers and a bounded number of nicknames.
 */
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { PeerBook } from '../src/node/peer-book.js'
import { MAX_GONE_PEERS, MAX_NAMED_PEERS } from '../src/node/constants.js'

test('2,400 short-lived identities leave at most MAX_GONE_PEERS entries and MAX_NAMED_PEERS names; connected peers are never dropped', () => {
  const book = new PeerBook()
  book.connect('honest')
  book.setName('honest', 'alice')
  for (let i = 0; i < 2400; i++) {
    const id = `churn-${i}`
    book.connect(id)
    book.setName(id, `bot${i}`)
    book.disconnect(id)
  }
  assert.equal(book.size, 1 + MAX_GONE_PEERS)
  assert.equal(book.name('honest'), 'alice', 'a connected peer keeps its name')
  assert.equal(book.peers()[0], 'honest')
  assert.equal(book.peers().at(-1), 'churn-2399', 'the most recent leaver is kept')
  assert.equal(book.peers().includes('churn-0'), false, 'the oldest leaver is forgotten')
  assert.equal(book.name('churn-0'), undefined, 'with its name')
  // names heard through the mesh from peers never connected here are bounded too
  for (let i = 0; i < 3 * MAX_NAMED_PEERS; i++) book.setName(`far-${i}`, `far${i}`)
  assert.equal(book.name('honest'), 'alice')
  assert.equal(book.name(`far-${3 * MAX_NAMED_PEERS - 1}`), `far${3 * MAX_NAMED_PEERS - 1}`)
  assert.equal(book.name('far-0'), undefined)
})

test('a peer that reconnects is listed once, as connected; a name change is reported once', () => {
  const book = new PeerBook(2, 4)
  book.connect('a')
  book.disconnect('a')
  book.connect('a')
  assert.deepEqual(book.peers(), ['a'])
  assert.equal(book.setName('a', 'x'), true)
  assert.equal(book.setName('a', 'x'), false)
  assert.equal(book.setName('a', 'y'), true)
  book.disconnect('a')
  book.disconnect('a')
  assert.deepEqual(book.peers(), ['a'])
})

test('disconnect returns the leavers it forgets, for the node to drop their peer-store records', () => {
  const book = new PeerBook(2, 4)
  for (const id of ['a', 'b', 'c']) book.connect(id)
  assert.deepEqual(book.disconnect('a'), [])
  assert.deepEqual(book.disconnect('b'), [])
  assert.deepEqual(book.disconnect('c'), ['a'], 'the oldest leaver makes room')
  assert.deepEqual(book.disconnect('c'), [], 'a second disconnect changes nothing')
  assert.deepEqual(book.peers(), ['b', 'c'])
})
