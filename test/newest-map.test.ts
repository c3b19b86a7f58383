/** util/newest-map: the bounded "most recent N" maps of per-peer state. */
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { setNewest } from '../src/util/newest-map.js'

test('setNewest keeps the newest entries up to the cap, a key set again counting as new', () => {
  const map = new Map<string, number>()
  for (const [i, key] of ['a', 'b', 'c'].entries()) setNewest(map, key, i, 3)
  assert.deepEqual([...map.keys()], ['a', 'b', 'c'])
  setNewest(map, 'a', 10, 3) // a moves to the newest end, nothing forgotten
  assert.deepEqual([...map.entries()], [['b', 1], ['c', 2], ['a', 10]])
  setNewest(map, 'd', 3, 3) // b, now the oldest, goes
  assert.deepEqual([...map.keys()], ['c', 'a', 'd'])
  setNewest(map, 'e', 4, 1) // a smaller cap trims down to it
  assert.deepEqual([...map.keys()], ['e'])
})
