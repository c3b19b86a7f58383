/**
 * A deterministic simulation of the fetching side (issue 12, acceptance 1): the real want list,
 * scheduler (`plan`) and provider health, driven by a fake clock and fake providers with rates,
 * freezes, departures, LATER, BUSY, false HAVEs and wrong blocks. No network, no timers.
 *
 * Like the session, the simulation re-plans only when something happened or when the last plan's
 * `wakeAt` is due: a block deferred without a wake-up would never be asked again (issue 18).
 */
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import fc from 'fast-check'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { parseCid } from '../src/content/index.js'
import { BUSY_BACKOFF_MS, LATER_MS, MAX_DUPLICATE_REQUESTS } from '../src/transfer/constants.js'
import { FetchProvider } from '../src/transfer/fetch/provider.js'
import { plan } from '../src/transfer/fetch/scheduler.js'
import { WantList } from '../src/transfer/fetch/want-list.js'

const TICK = 10
const HEALTH_EVERY = 250
const STALL = 2_000
const LIMIT = 30 * 60_000
const LIMITS = { minWindow: 2, maxWindow: 16, windowSeconds: 0.25 }

interface SimProvider {
  /** Milliseconds per block served. */
  ms: number
  /** Blocks it has (indexes), and blocks it claims to have without having them. */
  has: number[]
  falseHaves: number[]
  /** Unreachable (frozen both ways) from..until. */
  frozen?: [number, number]
  /** Leaves for good at this time. */
  leavesAt?: number
  /** Answers LATER the first time it is asked for each block. */
  laterOnce: boolean
  /** Every k-th request is answered BUSY (0: never). */
  busyEvery: number
  /** Sends wrong bytes for these blocks. */
  lies: number[]
}

interface Scenario {
  blocks: number
  providers: SimProvider[]
  /** Index of a provider that has every block, never lies, never leaves (it may freeze) and does not answer BUSY to everything. */
  honest: number
}

function keyFor (i: number): ReturnType<typeof parseCid> {
  const digest = createHash('sha256').update(`block ${i}`).digest()
  return parseCid(CID.createV1(0x55, Digest.create(0x12, new Uint8Array(digest))).bytes)
}

const provider = (blocks: number): fc.Arbitrary<SimProvider> => fc.record({
  ms: fc.integer({ min: 10, max: 400 }),
  has: fc.subarray([...Array(blocks).keys()]),
  falseHaves: fc.subarray([...Array(blocks).keys()], { maxLength: Math.min(3, blocks) }),
  frozen: fc.option(fc.tuple(fc.integer({ min: 0, max: 20_000 }), fc.integer({ min: 0, max: 20_000 })).map(([a, d]): [number, number] => [a, a + d]), { nil: undefined }),
  leavesAt: fc.option(fc.integer({ min: 0, max: 20_000 }), { nil: undefined }),
  laterOnce: fc.boolean(),
  busyEvery: fc.constantFrom(0, 0, 1, 2, 5),
  lies: fc.subarray([...Array(blocks).keys()], { maxLength: Math.min(2, blocks) })
})

const scenario: fc.Arbitrary<Scenario> = fc.integer({ min: 1, max: 40 }).chain(blocks =>
  fc.record({
    blocks: fc.constant(blocks),
    providers: fc.array(provider(blocks), { minLength: 1, maxLength: 5 }),
    honest: fc.nat(4)
  }).map(s => {
    const honest = s.honest % s.providers.length
    const h = s.providers[honest] as SimProvider
    // it serves (a provider that answers BUSY to every request serves nothing)
    s.providers[honest] = { ...h, has: [...Array(blocks).keys()], falseHaves: [], lies: [], leavesAt: undefined, busyEvery: h.busyEvery === 1 ? 0 : h.busyEvery }
    return { ...s, honest }
  }))

interface Run {
  complete: boolean
  now: number
  violations: string[]
}

function simulate (s: Scenario): Run {
  const cids = [...Array(s.blocks).keys()].map(keyFor)
  const keys = cids.map(c => c.toString())
  const index = new Map(keys.map((k, i) => [k, i]))
  const wants = new WantList()
  for (const cid of cids) wants.add(cid, 1)
  const violations: string[] = []
  let now = 0
  let wakeAt = Infinity
  let changed = true

  const sims = s.providers.map((sp, i) => ({
    sp,
    fp: new FetchProvider(`p${i}`, 4, 0),
    queue: [] as string[],
    nextAt: 0,
    requests: 0,
    laterSaid: new Set<string>(),
    /** Blocks it said DONT_HAVE for since its last HAVE of them. */
    dontHave: new Set<string>()
  }))
  const byPeer = new Map(sims.map(x => [x.fp.peer, x]))
  const providers = new Map(sims.map(x => [x.fp.peer, x.fp]))
  const reachable = (sp: SimProvider): boolean =>
    !(sp.leavesAt != null && now >= sp.leavesAt) && !(sp.frozen != null && now >= sp.frozen[0] && now < sp.frozen[1])
  const release = (x: typeof sims[number]): void => {
    for (const key of x.fp.asked.keys()) wants.release(x.fp.peer, key)
    x.fp.asked.clear()
  }

  const connect = (x: typeof sims[number]): void => {
    x.queue = [] // a new stream: the old one's queue is gone
    if (reachable(x.sp)) {
      x.fp.state = 'open'
      x.fp.stalledSince = undefined
      x.fp.leftAt = undefined
      x.fp.heard(now)
      for (const i of [...x.sp.has, ...x.sp.falseHaves]) {
        const key = keys[i] as string
        if (wants.have(x.fp.peer, key)) x.fp.everHad = true
        x.dontHave.delete(key)
      }
    } else {
      x.fp.state = x.sp.leavesAt != null && now >= x.sp.leavesAt ? 'left' : 'down'
      x.fp.failed(now, 'unreachable')
    }
  }
  for (const x of sims) connect(x)

  while (wants.size > 0 && now < LIMIT) {
    // providers answer, one request per `ms`
    for (const x of sims) {
      const { sp, fp } = x
      if (fp.state !== 'open' || !reachable(sp) || x.queue.length === 0 || now < x.nextAt) continue
      const key = x.queue.shift() as string
      x.nextAt = now + sp.ms
      const since = fp.owingSince
      fp.heard(now)
      changed = true
      const i = index.get(key) as number
      if (!sp.has.includes(i)) {
        fp.asked.delete(key)
        wants.dontHave(fp.peer, key)
        x.dontHave.add(key)
      } else if (sp.laterOnce && !x.laterSaid.has(key)) {
        x.laterSaid.add(key)
        fp.saidLater = true
        if (fp.asked.delete(key)) wants.later(fp.peer, key, now + LATER_MS)
      } else if (sp.busyEvery > 0 && ++x.requests % sp.busyEvery === 0) {
        if (fp.asked.delete(key)) wants.release(fp.peer, key)
        fp.busyStrikes = Math.min(fp.busyStrikes + 1, 4)
        fp.busyUntil = now + BUSY_BACKOFF_MS * 2 ** (fp.busyStrikes - 1)
      } else {
        const asked = fp.asked.delete(key)
        if (asked) fp.delivered(now, since, 1024 * 1024, LIMITS)
        const w = wants.get(key)
        if (w == null) continue // a duplicate
        if (sp.lies.includes(i)) {
          // wrong bytes: banned for the download
          fp.state = 'banned'
          wants.forget(fp.peer)
          fp.asked.clear()
          x.queue = []
          continue
        }
        for (const peer of w.requested.keys()) {
          const other = byPeer.get(peer)
          if (other == null) continue
          other.fp.asked.delete(key)
          other.queue = other.queue.filter(k => k !== key)
        }
        wants.remove(key)
      }
    }

    // health, as the session's interval does
    if (now % HEALTH_EVERY === 0) {
      for (const x of sims) {
        if (x.fp.state === 'open' && !reachable(x.sp) && x.sp.leavesAt != null && now >= x.sp.leavesAt) {
          // the stream breaks when a provider leaves
          release(x)
          x.fp.state = 'down'
          x.fp.failed(now, 'stream closed')
          changed = true
        }
        if (x.fp.stalls(now, STALL)) {
          x.fp.stalledSince = now
          x.fp.failed(now, 'stalled')
          changed = true
        }
        if (x.fp.due(now)) {
          release(x)
          connect(x)
          changed = true
        }
      }
    }

    if (changed || now >= wakeAt) {
      changed = false
      const result = plan({ wants: wants.values(), missing: wants.size, providers, minWindow: LIMITS.minWindow, maxDuplicates: MAX_DUPLICATE_REQUESTS }, now)
      wakeAt = Math.min(wakeAt > now ? wakeAt : Infinity, result.wakeAt ?? Infinity)
      if (result.wakeAt != null && result.wakeAt <= now) violations.push(`wakeAt ${result.wakeAt} is not in the future at ${now}`)
      for (const [peer, list] of result.requests) {
        const x = byPeer.get(peer)
        if (x == null) throw new Error(`unknown peer ${peer}`)
        for (const key of list) {
          const w = wants.get(key)
          if (w == null) violations.push(`${peer} asked for ${key}, which is not wanted`)
          else if (!w.haveAt.has(peer)) violations.push(`${peer} asked for ${key} without a HAVE`)
          if (x.dontHave.has(key)) violations.push(`${peer} asked for ${key} after it said DONT_HAVE`)
          if (!x.fp.usable) violations.push(`${peer} asked while ${x.fp.state}${x.fp.stalledSince != null ? ' (stalled)' : ''}`)
          if (x.fp.asked.has(key)) violations.push(`${peer} asked twice for ${key}`)
          wants.request(peer, key, now)
          x.fp.asking(key, now)
          x.queue.push(key)
          if (x.fp.asked.size > x.fp.window) violations.push(`${peer} has ${x.fp.asked.size} outstanding, window ${x.fp.window}`)
        }
        for (const w of wants.values()) if (w.requested.size > MAX_DUPLICATE_REQUESTS) violations.push(`${w.key} asked of ${w.requested.size} providers`)
      }
    }
    now += TICK
  }
  return { complete: wants.size === 0, now, violations }
}

test('simulation: a download completes while a reachable provider has every missing block, within every rule', () => {
  fc.assert(fc.property(scenario, (s) => {
    const run = simulate(s)
    assert.deepEqual(run.violations.slice(0, 5), [])
    assert.ok(run.complete, `incomplete after ${run.now} ms of simulated time`)
  }), { numRuns: 150, seed: 12 })
})

test('simulation: the LATER race of issue 18 (the only holder says LATER while another provider answers BUSY) completes', () => {
  const all = [...Array(8).keys()]
  const run = simulate({
    blocks: 8,
    honest: 0,
    providers: [
      { ms: 50, has: all, falseHaves: [], laterOnce: true, busyEvery: 0, lies: [] },
      { ms: 30, has: [], falseHaves: [], laterOnce: false, busyEvery: 1, lies: [] },
      { ms: 20, has: all.slice(0, 4), falseHaves: [], laterOnce: true, busyEvery: 2, lies: [] }
    ]
  })
  assert.deepEqual(run.violations, [])
  assert.ok(run.complete)
})

test('simulation: a provider frozen for longer than the stall timeout is asked again once it is back', () => {
  const all = [...Array(12).keys()]
  const run = simulate({
    blocks: 12,
    honest: 0,
    providers: [{ ms: 100, has: all, falseHaves: [], frozen: [300, 300 + 15_000], laterOnce: false, busyEvery: 0, lies: [] }]
  })
  assert.deepEqual(run.violations, [])
  assert.ok(run.complete)
  assert.ok(run.now > 15_300, 'it could only finish after the freeze')
})
