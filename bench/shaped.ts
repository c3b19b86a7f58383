/**
 * Slow links: swarmdrop against aria2 (BitTorrent) on a LAN whose every uplink is shaped, all
 * measured in the same run. The lab (bench/lib/shaped-lan.ts) is made of network namespaces only:
 * one per host on a bridge in a hub namespace, private addresses 10.97.0.x, no route out, each
 * host's egress shaped by `tbf` (64 KiB burst, 50 ms of queue; download is not shaped: a host
 * receives what the others' uplinks send it). Everything is deleted at the end, also on failure
 * or SIGINT / SIGTERM; what a killed run left (namespaces, its folder under the temporary
 * folder) at the next start.
 *
 * Scenarios (--scenario, default swarm):
 *   swarm   1 sharer + N fetchers (--fetchers, default 8), a SIZE MiB file (--size, default 64),
 *           every uplink at RATE Mbit/s (--rate, default 20). Ideal: file / the sharer's uplink.
 *   hetero  one fetcher, two providers with uplinks of 10 and 100 Mbit/s, against the fast one
 *           alone (fetcher's uplink 100). Ideal: file / 110 Mbit/s; alone, file / 100 Mbit/s.
 *   drop    one fetcher, two 100 Mbit/s providers; 2 s after the first data on the wire one of
 *           them drops to 5 Mbit/s (SIZE default 128). Ideal: 2 s at 200 Mbit/s, the rest at 105.
 *   all     the three, one after the other.
 * Contenders, each on the same lab, one after the other (after `sync`, a drop of the page cache
 * and the seed file read back, as in p2):
 *   aria2-plain   opentracker on its own unshaped host (10.97.0.100), one seeding aria2c per
 *                 provider, one leeching aria2c per fetcher, a private torrent with 1 MiB pieces
 *                 whose only tracker is the lab's, DHT/LPD/PEX off (bench/lib/aria2.ts's flags);
 *                 wall time from spawning the leechers (their start-up and announce count) until
 *                 the last one's --on-bt-download-complete hook; every copy's sha256 checked
 *   aria2-crypto  the same with --bt-require-crypto=true --bt-min-crypto-level=arc4
 *   swarmdrop     one process per host running the library, as bench/distribution.ts does (not
 *                 the node: no discovery, no catalog): createNetwork + createStore +
 *                 createTransfer, the provider imports the file, each fetcher dials the providers
 *                 (swarm: and the fetchers before it) and calls transfer.fetch with explicit
 *                 providers (swarm: the sharer and every other fetcher); wall time from sending
 *                 the fetch until the last one resolved; every block is checked against its CID
 *                 as it lands, and each fetcher's store must miss nothing after
 * Figures: wall time as ratios swarmdrop / aria2-crypto and / aria2-plain, each contender's wall
 * against the ideal (the ideal counts payload only), the sharer's upload / file
 * size counted on the wire (the byte counter of its port on the bridge: frames with headers, so
 * 1.00–1.04 is a single copy; swarmdrop's own count beside it), duplicate blocks (swarmdrop), and for
 * hetero / drop the share of the bytes that came from the slow or dropping provider.
 *
 * Usage: npm run bench -- shaped [--scenario swarm|hetero|drop|all] [--rate 20] [--size 64]
 *        [--fetchers 8] [--json]
 * Needs root (ip netns, tc); installs aria2, opentracker, mktorrent, iproute2, curl when missing.
 * One run takes ~2.5 min (swarm at 20 Mbit/s), ~1 min (hetero), ~45 s (drop).
 */
import '../src/polyfill.js'
import { randomBytes } from 'node:crypto'
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { parseArgs, promisify } from 'node:util'
import { COMMON, CRYPTO, makeTorrent, prepareRun, sha256File, type Torrent } from './lib/aria2.js'
import { load } from './lib/netns.js'
import { Procs, settle, type Proc } from './lib/procs.js'
import { removeLeftovers, ShapedLan, TRACKER_HOST, TRACKER_IP } from './lib/shaped-lan.js'
import { ensureTools, versions } from './lib/tools.js'
import { waitFor } from '../src/util/wait.js'

const MiB = 1024 * 1024
const TOOLS = ['aria2c', 'opentracker', 'mktorrent', 'setpriv', 'ip', 'tc', 'curl']
const TRACKER_PORT = 6969
const SLOW = 10
const FAST = 100
const DROP_TO = 5
const DROP_AFTER_MS = 2000
const execFileP = promisify(execFile)

const { values } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'swarm' },
    rate: { type: 'string', default: '20' },
    size: { type: 'string' },
    fetchers: { type: 'string', default: '8' },
    json: { type: 'boolean', default: false },
    // a swarmdrop peer process (started by the bench inside a lab namespace)
    peer: { type: 'boolean', default: false },
    ip: { type: 'string' },
    dir: { type: 'string' }
  }
})

type Msg = Record<string, any>
type Engine = 'aria2-plain' | 'aria2-crypto' | 'swarmdrop'
const ENGINES: Engine[] = ['aria2-plain', 'aria2-crypto', 'swarmdrop']

/** One swarmdrop peer, driven by JSON lines on stdin (runs inside a lab namespace). */
async function peer (): Promise<void> {
  const { tuneV8ForTransfers } = await import('../src/util/v8-tuning.js')
  tuneV8ForTransfers()
  const { loadOrCreateIdentity } = await import('../src/net/identity.js')
  const { createNetwork } = await import('../src/net/network.js')
  const { createStore } = await import('../src/storage/index.js')
  const { createTransfer } = await import('../src/transfer/index.js')
  const dir = values.dir ?? ''
  const send = (m: Msg): void => { process.stdout.write(JSON.stringify(m) + '\n') }
  await mkdir(dir, { recursive: true })
  const network = await createNetwork({ privateKey: await loadOrCreateIdentity(dir), listen: [`/ip4/${values.ip ?? ''}/tcp/0`], mdns: false, agent: 'bench' })
  await network.start()
  const store = await createStore({ path: join(dir, 'store') })
  const transfer = createTransfer({ network, store })
  await transfer.start()
  send({ type: 'ready', peerId: network.peerId, addr: network.getMultiaddrs()[0]?.toString() })
  for await (const line of createInterface({ input: process.stdin })) {
    const msg = JSON.parse(line) as Msg
    if (msg.type === 'import') {
      const rec = await store.import(msg.path as string, { name: 'bench.bin' })
      send({ type: 'imported', cid: rec.cid.toString() })
    } else if (msg.type === 'dial') {
      for (const addr of msg.addrs as string[]) await network.dial(addr)
      send({ type: 'dialled' })
    } else if (msg.type === 'fetch') {
      await store.track(msg.cid as string, { name: 'bench.bin' })
      const r = await transfer.fetch(msg.cid as string, { providers: msg.providers as string[], timeout: 120_000 })
      const missing = await store.missing(msg.cid as string)
      send({ type: 'fetched', ms: r.elapsed, duplicates: r.duplicates, invalid: r.invalid, missing: missing.length, from: r.providers })
    } else if (msg.type === 'stats') {
      send({ type: 'stats', served: transfer.stats().served.bytes })
    } else if (msg.type === 'exit') {
      break
    }
  }
  await transfer.stop()
  await network.stop()
  await store.close()
}

/** A swarmdrop peer process as the bench sees it: messages with their arrival time, every wait bounded. */
class Peer {
  private readonly queue: Msg[] = []
  peerId = ''
  addr = ''

  constructor (readonly host: string, readonly proc: Proc) {
    const out = proc.child.stdout
    if (out == null) throw new Error('peer without stdout')
    createInterface({ input: out }).on('line', (line) => {
      try {
        this.queue.push({ ...JSON.parse(line) as Msg, at: performance.now() })
      } catch {
        // not one of ours
      }
    })
  }

  send (msg: Msg): void {
    this.proc.child.stdin?.write(JSON.stringify(msg) + '\n')
  }

  async next (type: string, timeout: number): Promise<Msg> {
    let found: Msg | undefined
    await waitFor(() => {
      const i = this.queue.findIndex(m => m.type === type)
      if (i !== -1) {
        found = this.queue.splice(i, 1)[0]
        return true
      }
      if (this.proc.exit != null) throw new Error(`${this.proc.name} exited (${JSON.stringify(this.proc.exit)}) while the bench waited for '${type}':\n${this.proc.tail()}`)
      return false
    }, { timeout, interval: 5, message: `${this.proc.name} to answer '${type}'` })
    return found ?? {}
  }
}

/** One contender's run of a scenario: who provides, who fetches, the uplinks, a drop. */
interface Plan {
  label: string
  providers: string[]
  fetchers: string[]
  /** Uplink of each host, Mbit/s. */
  rates: Record<string, number>
  drop?: { host: string, toMbit: number, afterMs: number }
  /** Fetchers serve each other (swarm). */
  mesh: boolean
  file: string
  torrent: Torrent
  idealMs: number
  /** Bound on the whole transfer. */
  timeout: number
}

interface Outcome {
  engine: Engine
  wallMs: number
  perFetcherMs: number[]
  /** When the providers had sent 256 KiB (start-up, handshakes, announces before it). */
  firstDataMs: number | null
  wallVsIdeal: number
  afterFirstDataVsIdeal: number | null
  /** Bytes each provider sent, counted on the wire (its bridge port). */
  providerSent: Record<string, number>
  /** All hosts' bytes sent (tracker excluded). */
  allSent: number
  /** What each provider had sent once every process of the run was stopped and 1 s had passed (what its send buffers still held when the fetch ended, sent or dropped). */
  providerSentInAll?: Record<string, number>
  droppedAtMs?: number
  /** swarmdrop only */
  duplicates?: number
  providerServedOwnStats?: Record<string, number>
  sha256Checked?: boolean
}

const say = (line: string): void => { process.stderr.write(`${line}\n`) }
const round = (x: number, digits = 2): number => Number(x.toFixed(digits))
const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

class Bench {
  readonly procs = new Procs()
  /** The counters when the last timed part began. */
  private before: Record<string, number> = {}

  constructor (readonly lan: ShapedLan, readonly dir: string) {}

  private spawnIn (host: string, name: string, cmd: string, args: string[], options: { log: string, capture?: boolean, env?: Record<string, string> }): Proc {
    const [ip, ...rest] = this.lan.exec(host, cmd, args)
    return this.procs.spawn(name, ip ?? 'ip', rest, options)
  }

  private async sent (): Promise<Record<string, number>> {
    return await this.lan.sent()
  }

  /**
   * The timed part, common to every contender: `begin` starts the transfer, `finish` resolves
   * with each fetcher's time (ms since the start). Meanwhile it watches the providers' counters
   * for the first data and, `afterMs` later, applies the plan's drop.
   */
  private async timed (plan: Plan, begin: () => Promise<void> | void, finish: () => Promise<number[]>): Promise<Omit<Outcome, 'engine'>> {
    const before = await this.sent()
    this.before = before
    const t0 = performance.now()
    const state = { stopped: false }
    let firstDataMs: number | null = null
    let droppedAtMs: number | undefined
    const watch = (async () => {
      while (!state.stopped && performance.now() - t0 < plan.timeout) {
        const now = await this.sent()
        const out = plan.providers.reduce((n, h) => n + (now[h] ?? 0) - (before[h] ?? 0), 0)
        if (out > 256 * 1024) {
          firstDataMs = performance.now() - t0
          break
        }
        await sleep(20)
      }
      if (plan.drop == null || firstDataMs == null) return
      const at = firstDataMs + plan.drop.afterMs
      while (!state.stopped && performance.now() - t0 < at) await sleep(10)
      if (state.stopped) return
      this.lan.shape(plan.drop.host, plan.drop.toMbit)
      droppedAtMs = performance.now() - t0
    })()
    let per: number[]
    try {
      await begin()
      per = (await finish()).map(t => t - t0)
    } finally {
      state.stopped = true
      await watch
    }
    const after = await this.sent()
    const wallMs = Math.max(...per)
    const providerSent = Object.fromEntries(plan.providers.map(h => [h, (after[h] ?? 0) - (before[h] ?? 0)]))
    const allSent = this.lan.hosts.filter(h => h !== TRACKER_HOST).reduce((n, h) => n + (after[h] ?? 0) - (before[h] ?? 0), 0)
    const first = firstDataMs as number | null
    return {
      wallMs: Math.round(wallMs),
      perFetcherMs: per.map(Math.round),
      firstDataMs: first != null ? Math.round(first) : null,
      wallVsIdeal: round(wallMs / plan.idealMs),
      afterFirstDataVsIdeal: first != null ? round((wallMs - first) / plan.idealMs) : null,
      providerSent,
      allSent,
      ...(droppedAtMs != null ? { droppedAtMs: Math.round(droppedAtMs) } : {})
    }
  }

  private shapeAll (plan: Plan): void {
    for (const [host, mbit] of Object.entries(plan.rates)) this.lan.shape(host, mbit)
  }

  async run (engine: Engine, plan: Plan): Promise<Outcome> {
    settle([plan.file])
    this.shapeAll(plan)
    const runDir = join(this.dir, `${plan.label}-${engine}`)
    await mkdir(runDir, { recursive: true })
    const outcome = engine === 'swarmdrop' ? await this.swarmdrop(plan, runDir) : await this.aria2(plan, runDir, engine === 'aria2-crypto')
    // every process of the run is stopped: what the providers sent after the last fetcher finished
    await sleep(1000)
    const after = await this.sent()
    outcome.providerSentInAll = Object.fromEntries(plan.providers.map(h => [h, (after[h] ?? 0) - (this.before[h] ?? 0)]))
    return outcome
  }

  private async swarmdrop (plan: Plan, runDir: string): Promise<Outcome> {
    const script = fileURLToPath(import.meta.url)
    const started: Proc[] = []
    const start = (host: string, role: string): Peer => {
      const name = `swarmdrop-${role}-${host}`
      const proc = this.spawnIn(host, name, process.execPath, [script, '--peer', '--ip', this.lan.ip(host), '--dir', join(runDir, host)], { log: join(runDir, `${host}.log`), capture: true })
      started.push(proc)
      return new Peer(host, proc)
    }
    try {
      const providers = plan.providers.map(h => start(h, 'provider'))
      const fetchers = plan.fetchers.map(h => start(h, 'fetcher'))
      const all = [...providers, ...fetchers]
      for (const p of all) {
        const r = await p.next('ready', 90_000)
        p.peerId = r.peerId as string
        p.addr = r.addr as string
      }
      let cid = ''
      for (const p of providers) {
        p.send({ type: 'import', path: plan.file })
        cid = (await p.next('imported', 120_000)).cid as string
      }
      await Promise.all(fetchers.map(async (f, i) => {
        f.send({ type: 'dial', addrs: [...providers.map(p => p.addr), ...(plan.mesh ? fetchers.slice(0, i).map(x => x.addr) : [])] })
        await f.next('dialled', 30_000)
      }))
      await sleep(500)
      const served0 = await Promise.all(providers.map(async p => {
        p.send({ type: 'stats' })
        return (await p.next('stats', 10_000)).served as number
      }))
      const results: Msg[] = []
      const outcome = await this.timed(plan, () => {
        for (const f of fetchers) {
          const others = plan.mesh ? fetchers.filter(x => x !== f).map(x => x.peerId) : []
          f.send({ type: 'fetch', cid, providers: [...providers.map(p => p.peerId), ...others] })
        }
      }, async () => {
        const done = await Promise.all(fetchers.map(async f => await f.next('fetched', plan.timeout)))
        results.push(...done)
        return done.map(r => r.at as number)
      })
      for (const [i, r] of results.entries()) {
        if (r.missing !== 0 || r.invalid !== 0) throw new Error(`swarmdrop fetcher ${plan.fetchers[i] ?? i}: ${String(r.missing)} blocks missing, ${String(r.invalid)} invalid after the fetch`)
      }
      const served = await Promise.all(providers.map(async (p, i) => {
        p.send({ type: 'stats' })
        return (await p.next('stats', 10_000)).served as number - (served0[i] ?? 0)
      }))
      for (const p of all) p.send({ type: 'exit' })
      return {
        engine: 'swarmdrop',
        ...outcome,
        duplicates: results.reduce((n, r) => n + (r.duplicates as number), 0),
        providerServedOwnStats: Object.fromEntries(plan.providers.map((h, i) => [h, served[i] ?? 0]))
      }
    } finally {
      await this.procs.stop(started)
    }
  }

  private async scrape (infoHash: string): Promise<{ complete: number, incomplete: number } | undefined> {
    const escaped = infoHash.replace(/../g, h => `%${h}`)
    const [cmd, ...args] = this.lan.exec(TRACKER_HOST, 'curl', ['-s', '-m', '2', `http://${TRACKER_IP}:${TRACKER_PORT}/scrape?info_hash=${escaped}`])
    try {
      const { stdout } = await execFileP(cmd ?? 'ip', args, { encoding: 'latin1', timeout: 5000 })
      // a bencoded dictionary; a torrent nobody announced yet is not in it
      if (!stdout.startsWith('d')) return undefined
      return { complete: Number(/8:completei(\d+)e/.exec(stdout)?.[1] ?? 0), incomplete: Number(/10:incompletei(\d+)e/.exec(stdout)?.[1] ?? 0) }
    } catch {
      return undefined
    }
  }

  private async aria2 (plan: Plan, runDir: string, crypto: boolean): Promise<Outcome> {
    const engine: Engine = crypto ? 'aria2-crypto' : 'aria2-plain'
    const { torrent } = plan
    const { otDir, hook } = await prepareRun(runDir, torrent)
    const flags = [...COMMON, ...(crypto ? CRYPTO : [])]
    const started: Proc[] = []
    try {
      // opentracker chroots into its folder and drops to nobody: the whitelist path is inside the chroot
      started.push(this.spawnIn(TRACKER_HOST, 'opentracker', 'opentracker', ['-i', TRACKER_IP, '-p', String(TRACKER_PORT), '-P', String(TRACKER_PORT), '-d', otDir, '-u', 'nobody', '-w', '/whitelist.txt'], { log: join(runDir, 'tracker.log') }))
      await waitFor(async () => (await this.scrape(torrent.infoHash)) != null, { timeout: 10_000, interval: 100, message: 'opentracker to answer' })
      const seedDir = join(torrent.file, '..')
      for (const h of plan.providers) {
        started.push(this.spawnIn(h, `aria2-seeder-${h}`, 'aria2c', [...flags, '--listen-port=7000', '--bt-seed-unverified=true', '-d', seedDir, torrent.path], { log: join(runDir, `seeder-${h}.log`) }))
      }
      await waitFor(async () => ((await this.scrape(torrent.infoHash))?.complete ?? 0) >= plan.providers.length, { timeout: 20_000, interval: 100, message: 'the seeders to register with the tracker' })
      const doneFiles = plan.fetchers.map(h => join(runDir, `leecher-${h}.done`))
      const leechers: Proc[] = []
      const outcome = await this.timed(plan, () => {
        for (const [i, h] of plan.fetchers.entries()) {
          leechers.push(this.spawnIn(h, `aria2-leecher-${h}`, 'aria2c', [...flags, '--listen-port=7010', `--on-bt-download-complete=${hook}`, '-d', join(runDir, `leecher-${h}`), torrent.path],
            { log: join(runDir, `leecher-${h}.log`), env: { ANCHOR_DONE_FILE: doneFiles[i] ?? '' } }))
        }
        started.push(...leechers)
      }, async () => {
        const doneAt: Array<number | undefined> = doneFiles.map(() => undefined)
        await waitFor(async () => {
          for (const [i, f] of doneFiles.entries()) {
            if (doneAt[i] != null) continue
            const text = await readFile(f, 'utf8').catch(() => '')
            // the hook's wall clock, turned into this process's performance clock
            if (/^\d+\n$/.test(text)) doneAt[i] = performance.now() - (Date.now() - Number(BigInt(text.trim()) / 1_000_000n))
          }
          const dead = leechers.find(l => l.exit != null)
          if (dead != null) throw new Error(`${dead.name} exited early (${JSON.stringify(dead.exit)}):\n${dead.tail()}`)
          return doneAt.every(t => t != null)
        }, { timeout: plan.timeout, interval: 25, message: () => `all ${plan.fetchers.length} aria2c leechers to finish (${doneAt.filter(t => t != null).length} did)` })
        return doneAt.map(t => t ?? NaN)
      })
      await this.procs.stop(started)
      const want = await sha256File(torrent.file)
      for (const h of plan.fetchers) {
        const copy = join(runDir, `leecher-${h}`, 'bench.bin')
        const got = await sha256File(copy)
        if (got !== want) throw new Error(`aria2 leecher ${h}: sha256 ${got}, want ${want}`)
        await rm(copy)
      }
      return { engine, ...outcome, sha256Checked: true }
    } finally {
      await this.procs.stop(started)
    }
  }
}

/** A file of random bytes and its torrent (announcing to the lab's tracker), one per size. */
const seeds = new Map<number, { file: string, torrent: Torrent }>()
async function seedFile (dir: string, sizeMiB: number): Promise<{ file: string, torrent: Torrent }> {
  const known = seeds.get(sizeMiB)
  if (known != null) return known
  const seedDir = join(dir, `seed-${sizeMiB}`)
  const file = join(seedDir, 'bench.bin')
  await mkdir(seedDir, { recursive: true })
  await writeFile(file, randomBytes(sizeMiB * MiB))
  const seed = { file, torrent: makeTorrent(seedDir, file, `http://${TRACKER_IP}:${TRACKER_PORT}/announce`) }
  seeds.set(sizeMiB, seed)
  return seed
}

const idealMs = (bytes: number, mbit: number): number => bytes * 8 / (mbit * 1e6) * 1000
const timeoutFor = (ideal: number): number => Math.round(60_000 + 5 * ideal)

function describe (o: Outcome, size: number, sharers: string[]): string {
  const sent = sharers.map(h => `${h} ${((o.providerSent[h] ?? 0) / size).toFixed(2)}×`).join(', ')
  const inAll = o.providerSentInAll != null ? ` (${sharers.map(h => `${((o.providerSentInAll?.[h] ?? 0) / size).toFixed(2)}×`).join(', ')} once all stopped)` : ''
  const own = o.providerServedOwnStats != null ? `; own count ${sharers.map(h => `${((o.providerServedOwnStats?.[h] ?? 0) / size).toFixed(2)}×`).join(', ')}` : ''
  return `  ${o.engine}: wall ${(o.wallMs / 1000).toFixed(2)} s = ${o.wallVsIdeal}× ideal (first data at ${o.firstDataMs != null ? (o.firstDataMs / 1000).toFixed(2) : '?'} s; from there ${o.afterFirstDataVsIdeal ?? '?'}× ideal)` +
    `${o.droppedAtMs != null ? `, drop applied at ${(o.droppedAtMs / 1000).toFixed(2)} s` : ''}; uploaded / file on the wire: ${sent}${inAll}${own}; all hosts ${(o.allSent / size).toFixed(2)}×` +
    `${o.duplicates != null ? `; ${o.duplicates} duplicate blocks` : ''}${o.sha256Checked === true ? '; every copy\'s sha256 checked' : ''}`
}

type Failures = Record<string, string>

/** Runs the three contenders on `plan`; a contender that fails is reported, not fatal. */
async function contenders (bench: Bench, plan: Plan, failures: Failures): Promise<Partial<Record<Engine, Outcome>>> {
  const out: Partial<Record<Engine, Outcome>> = {}
  for (const engine of ENGINES) {
    try {
      out[engine] = await bench.run(engine, plan)
    } catch (err) {
      failures[`${plan.label} ${engine}`] = (err as Error).message
      say(`  ${engine}: FAILED: ${(err as Error).message}`)
    }
  }
  return out
}

const ratio = (a: Outcome | undefined, b: Outcome | undefined): number | null => a != null && b != null ? round(a.wallMs / b.wallMs) : null

async function swarm (bench: Bench, dir: string, sizeMiB: number, fetchers: number, rate: number, failures: Failures): Promise<Record<string, unknown>> {
  const size = sizeMiB * MiB
  const { file, torrent } = await seedFile(dir, sizeMiB)
  const fetcherHosts = Array.from({ length: fetchers }, (_, i) => `h${i + 1}`)
  const ideal = idealMs(size, rate)
  const plan: Plan = {
    label: 'swarm',
    providers: ['h0'],
    fetchers: fetcherHosts,
    rates: Object.fromEntries(['h0', ...fetcherHosts].map(h => [h, rate])),
    mesh: true,
    file,
    torrent,
    idealMs: ideal,
    timeout: timeoutFor(ideal)
  }
  say(`swarm: ${sizeMiB} MiB from 1 sharer (h0) to ${fetchers} fetchers, every uplink ${rate} Mbit/s; ideal ${(ideal / 1000).toFixed(1)} s (file / the sharer's uplink); load ${load()}`)
  const r = await contenders(bench, plan, failures)
  for (const o of Object.values(r)) say(describe(o, size, ['h0']))
  const sd = r.swarmdrop
  const result = {
    sizeMiB,
    fetchers,
    rateMbit: rate,
    idealMs: Math.round(ideal),
    wallVsAria2Crypto: ratio(sd, r['aria2-crypto']),
    wallVsAria2Plain: ratio(sd, r['aria2-plain']),
    wallVsIdeal: Object.fromEntries(Object.values(r).map(o => [o.engine, o.wallVsIdeal])),
    sharerUpload: Object.fromEntries(Object.values(r).map(o => [o.engine, round((o.providerSent.h0 ?? 0) / size)])),
    sharerUploadOnceAllStopped: Object.fromEntries(Object.values(r).map(o => [o.engine, round((o.providerSentInAll?.h0 ?? 0) / size)])),
    swarmdropSharerUploadOwnStats: sd != null ? round((sd.providerServedOwnStats?.h0 ?? 0) / size) : null,
    swarmdropDuplicates: sd?.duplicates ?? null,
    runs: r
  }
  say(`  swarmdrop wall / aria2-crypto ${result.wallVsAria2Crypto}, / aria2-plain ${result.wallVsAria2Plain}; sharer upload / file (wire) ${Object.entries(result.sharerUpload).map(([k, v]) => `${k} ${v}`).join(', ')}`)
  return result
}

async function hetero (bench: Bench, dir: string, sizeMiB: number, failures: Failures): Promise<Record<string, unknown>> {
  const size = sizeMiB * MiB
  const { file, torrent } = await seedFile(dir, sizeMiB)
  const rates = { h0: SLOW, h1: FAST, h2: FAST }
  const both: Plan = { label: 'hetero-both', providers: ['h0', 'h1'], fetchers: ['h2'], rates, mesh: false, file, torrent, idealMs: idealMs(size, SLOW + FAST), timeout: 0 }
  both.timeout = timeoutFor(idealMs(size, SLOW))
  const fast: Plan = { ...both, label: 'hetero-fast', providers: ['h1'], idealMs: idealMs(size, FAST) }
  say(`hetero: ${sizeMiB} MiB to one fetcher (h2) from providers at ${SLOW} (h0) and ${FAST} Mbit/s (h1), against the fast one alone; ideal ${(both.idealMs / 1000).toFixed(2)} s, alone ${(fast.idealMs / 1000).toFixed(2)} s; load ${load()}`)
  const rb = await contenders(bench, both, failures)
  for (const o of Object.values(rb)) say(describe(o, size, ['h0', 'h1']))
  say('  the fast provider alone:')
  const rf = await contenders(bench, fast, failures)
  for (const o of Object.values(rf)) say(describe(o, size, ['h1']))
  const slowShare = (o: Outcome): number => round((o.providerSent.h0 ?? 0) / ((o.providerSent.h0 ?? 0) + (o.providerSent.h1 ?? 0)))
  const result = {
    sizeMiB,
    slowMbit: SLOW,
    fastMbit: FAST,
    idealBothMs: Math.round(both.idealMs),
    idealFastMs: Math.round(fast.idealMs),
    wallVsAria2Crypto: ratio(rb.swarmdrop, rb['aria2-crypto']),
    wallVsAria2Plain: ratio(rb.swarmdrop, rb['aria2-plain']),
    fastAloneWallVsAria2Crypto: ratio(rf.swarmdrop, rf['aria2-crypto']),
    fastAloneWallVsAria2Plain: ratio(rf.swarmdrop, rf['aria2-plain']),
    bothVsFastAlone: Object.fromEntries(ENGINES.map(e => [e, ratio(rb[e], rf[e])])),
    wallVsIdeal: Object.fromEntries(Object.values(rb).map(o => [o.engine, o.wallVsIdeal])),
    slowProviderShare: Object.fromEntries(Object.values(rb).map(o => [o.engine, slowShare(o)])),
    providersUpload: Object.fromEntries(Object.values(rb).map(o => [o.engine, round(((o.providerSent.h0 ?? 0) + (o.providerSent.h1 ?? 0)) / size)])),
    swarmdropDuplicates: rb.swarmdrop?.duplicates ?? null,
    runs: { both: rb, fastAlone: rf }
  }
  say(`  with both providers: swarmdrop wall / aria2-crypto ${result.wallVsAria2Crypto}, / aria2-plain ${result.wallVsAria2Plain}; fast one alone: ${result.fastAloneWallVsAria2Crypto}, ${result.fastAloneWallVsAria2Plain}`)
  say(`  both / fast alone: ${Object.entries(result.bothVsFastAlone).map(([k, v]) => `${k} ${v}`).join(', ')}; share of the bytes from the slow provider: ${Object.entries(result.slowProviderShare).map(([k, v]) => `${k} ${v}`).join(', ')}`)
  return result
}

async function drop (bench: Bench, dir: string, sizeMiB: number, failures: Failures): Promise<Record<string, unknown>> {
  const size = sizeMiB * MiB
  const { file, torrent } = await seedFile(dir, sizeMiB)
  const early = FAST * 2 * 1e6 / 8 * DROP_AFTER_MS / 1000
  const ideal = size <= early ? idealMs(size, 2 * FAST) : DROP_AFTER_MS + idealMs(size - early, FAST + DROP_TO)
  const plan: Plan = {
    label: 'drop',
    providers: ['h0', 'h1'],
    fetchers: ['h2'],
    rates: { h0: FAST, h1: FAST, h2: FAST },
    drop: { host: 'h0', toMbit: DROP_TO, afterMs: DROP_AFTER_MS },
    mesh: false,
    file,
    torrent,
    idealMs: ideal,
    timeout: timeoutFor(idealMs(size, DROP_TO))
  }
  say(`drop: ${sizeMiB} MiB to one fetcher (h2) from two ${FAST} Mbit/s providers; ${DROP_AFTER_MS / 1000} s after the first data h0 drops to ${DROP_TO} Mbit/s; ideal from the first data ${(ideal / 1000).toFixed(2)} s; load ${load()}`)
  const r = await contenders(bench, plan, failures)
  for (const o of Object.values(r)) say(describe(o, size, ['h0', 'h1']))
  const result = {
    sizeMiB,
    fastMbit: FAST,
    dropToMbit: DROP_TO,
    dropAfterMs: DROP_AFTER_MS,
    idealMs: Math.round(ideal),
    wallVsAria2Crypto: ratio(r.swarmdrop, r['aria2-crypto']),
    wallVsAria2Plain: ratio(r.swarmdrop, r['aria2-plain']),
    afterFirstDataVsIdeal: Object.fromEntries(Object.values(r).map(o => [o.engine, o.afterFirstDataVsIdeal])),
    droppedProviderShare: Object.fromEntries(Object.values(r).map(o => [o.engine, round((o.providerSent.h0 ?? 0) / ((o.providerSent.h0 ?? 0) + (o.providerSent.h1 ?? 0)))])),
    providersUpload: Object.fromEntries(Object.values(r).map(o => [o.engine, round(((o.providerSent.h0 ?? 0) + (o.providerSent.h1 ?? 0)) / size)])),
    swarmdropDuplicates: r.swarmdrop?.duplicates ?? null,
    runs: r
  }
  say(`  swarmdrop wall / aria2-crypto ${result.wallVsAria2Crypto}, / aria2-plain ${result.wallVsAria2Plain}; from the first data / ideal: ${Object.entries(result.afterFirstDataVsIdeal).map(([k, v]) => `${k} ${v}`).join(', ')}`)
  return result
}

/** Deletes the working folders of shaped benches that no longer run (a killed run's files and copies). */
async function removeDeadRunDirs (): Promise<void> {
  for (const name of await readdir(tmpdir())) {
    const pid = Number(/^swarmdrop-shaped-(\d+)-/.exec(name)?.[1])
    if (!(pid > 0)) continue
    try {
      process.kill(pid, 0)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') await rm(join(tmpdir(), name), { recursive: true, force: true })
    }
  }
}

async function main (): Promise<void> {
  const scenario = values.scenario ?? 'swarm'
  const scenarios = scenario === 'all' ? ['swarm', 'hetero', 'drop'] : [scenario]
  if (!scenarios.every(s => ['swarm', 'hetero', 'drop'].includes(s))) throw new Error('--scenario must be swarm, hetero, drop or all')
  const rate = Number(values.rate)
  const fetchers = Number(values.fetchers)
  const size = values.size != null ? Number(values.size) : undefined
  if (!(rate > 0 && rate <= 1000) || !Number.isInteger(fetchers) || fetchers < 1 || fetchers > 80 || (size != null && !(size > 0 && size <= 4096))) {
    throw new Error('--rate must be 0 to 1000 (Mbit/s), --fetchers a whole number from 1 to 80, --size 0 to 4096 (MiB)')
  }
  if (process.getuid?.() !== 0) throw new Error('the shaped bench needs root (ip netns, tc)')
  ensureTools(TOOLS)
  const tools = versions(['aria2c', 'opentracker', 'mktorrent'])
  const loadStart = load()
  say(`shaped: ${scenarios.join(', ')}; a private LAN of network namespaces (10.97.0.0/24, no route out); load average at start ${loadStart}`)
  say(`tools: ${Object.values(tools).join('; ')}`)
  const hosts = scenarios.includes('swarm') ? Math.max(3, fetchers + 1) : 3
  await removeDeadRunDirs()
  const leftovers = removeLeftovers()
  if (leftovers.length > 0) say(`deleted the namespaces of a run that no longer runs: ${leftovers.join(', ')}`)
  const dir = await mkdtemp(join(tmpdir(), `swarmdrop-shaped-${process.pid}-`))
  let lan: ShapedLan | undefined
  const closeLan = (): void => {
    lan?.close()
    rmSync(dir, { recursive: true, force: true })
  }
  // also when a signal ends the process (Procs exits on SIGINT/SIGTERM): the 'exit' handler is synchronous
  process.once('exit', closeLan)
  let bench: Bench | undefined
  const failures: Failures = {}
  const results: Record<string, unknown> = {}
  const started = performance.now()
  try {
    lan = ShapedLan.create(hosts)
    bench = new Bench(lan, dir)
    const b = bench
    for (const s of scenarios) {
      const t = performance.now()
      if (s === 'swarm') results.swarm = await swarm(b, dir, size ?? 64, fetchers, rate, failures)
      else if (s === 'hetero') results.hetero = await hetero(b, dir, size ?? 64, failures)
      else results.drop = await drop(b, dir, size ?? 128, failures)
      say(`  (${s} took ${((performance.now() - t) / 1000).toFixed(0)} s)`)
    }
  } finally {
    await bench?.procs.stopAll()
    lan?.close()
    const left = lan?.remaining() ?? []
    if (left.length > 0) say(`namespaces left behind: ${left.join(', ')}`)
    process.off('exit', closeLan)
    await rm(dir, { recursive: true, force: true })
  }
  const loadEnd = load()
  say(`load average at end ${loadEnd}; ${((performance.now() - started) / 1000).toFixed(0)} s in all`)
  if (Object.keys(failures).length > 0) process.exitCode = 1
  const out = { bench: 'shaped', scenarios: results, failures, versions: tools, loadStart, loadEnd }
  if (values.json) {
    process.stdout.write(`${JSON.stringify(out)}\n`)
    return
  }
  const line = (s: string, r: any): string => `${s}: wall swarmdrop/aria2-crypto ${String(r.wallVsAria2Crypto)}, swarmdrop/aria2-plain ${String(r.wallVsAria2Plain)}`
  process.stdout.write(Object.entries(results).map(([s, r]) => line(s, r)).join('; ') + '\n')
}

if (values.peer) await peer()
else await main()
