/**
 * The Syncthing anchor for P1: two instances in the bench's private namespace, device A sharing
 * one folder send-only with device B (receive-only). Each listens on tcp://127.0.0.1 only, with
 * its GUI/REST API on 127.0.0.1, and global and local discovery, relays, NAT traversal (UPnP),
 * STUN, usage reporting, crash reporting and upgrades off (config, flags and environment).
 *
 * `sync(file)` moves a file into A's folder (one rename, so it appears whole), asks A to scan
 * it, and times until B has the whole file in place: total = appearance → B complete (the
 * figure P1 compares with), indexed = until A's index has the file (hashing), pull = the rest.
 * B's copy is checked by sha256. Ports are fixed: nothing else lives in the namespace.
 */
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { waitFor } from '../../src/util/wait.js'
import { sha256File } from './aria2.js'
import { assertLoopback, type Proc, type Procs, waitForHttp } from './procs.js'

const FOLDER = 'bench'
const ENV = { STNOUPGRADE: '1', STNORESTART: '1', STNODEFAULTFOLDER: '1' }

interface Instance {
  name: string
  home: string
  folder: string
  id: string
  listen: number
  gui: number
  apikey: string
  proc?: Proc
}

export interface SyncResult { bytes: number, totalMs: number, indexedMs: number, pullMs: number }

export interface SyncthingPair {
  /** Copies `source` into A's folder as `name` and waits for B to have it (sha256 checked). */
  sync: (source: string, name: string, timeout: number) => Promise<SyncResult>
  stop: () => Promise<void>
}

/** Options forced off or onto loopback, whatever the generated config says. */
function options (listen: number): Record<string, string> {
  return {
    listenAddress: `tcp://127.0.0.1:${listen}`,
    globalAnnounceEnabled: 'false',
    localAnnounceEnabled: 'false',
    relaysEnabled: 'false',
    natEnabled: 'false',
    urAccepted: '-1',
    autoUpgradeIntervalH: '0',
    crashReportingEnabled: 'false',
    startBrowser: 'false',
    stunKeepaliveStartS: '0',
    announceLANAddresses: 'false',
    // the default lowers Syncthing's CPU priority, which would handicap it against swarmdrop
    setLowPriority: 'false'
  }
}

function configure (xml: string, self: Instance, other: Instance, type: 'sendonly' | 'receiveonly'): string {
  let out = xml
  for (const [tag, value] of Object.entries(options(self.listen))) {
    const re = new RegExp(`<${tag}>[^<]*</${tag}>`, 'g')
    out = re.test(out) ? out.replace(re, `<${tag}>${value}</${tag}>`) : out.replace('</options>', `    <${tag}>${value}</${tag}>\n    </options>`)
  }
  out = out.replace(/<gui[^>]*>[\s\S]*?<\/gui>/, `<gui enabled="true" tls="false" debugging="false"><address>127.0.0.1:${self.gui}</address><apikey>${self.apikey}</apikey><theme>default</theme></gui>`)
  const folder = `<folder id="${FOLDER}" label="${FOLDER}" path="${self.folder}" type="${type}" rescanIntervalS="3600" fsWatcherEnabled="false" ignorePerms="false" autoNormalize="true">` +
    `<filesystemType>basic</filesystemType><device id="${self.id}" introducedBy=""></device><device id="${other.id}" introducedBy=""></device></folder>`
  const device = `<device id="${other.id}" name="${other.name}" compression="metadata" introducer="false" skipIntroductionRemovals="false" introducedBy="">` +
    `<address>tcp://127.0.0.1:${other.listen}</address><paused>false</paused><autoAcceptFolders>false</autoAcceptFolders></device>`
  out = out.replace(/(<configuration[^>]*>)/, `$1\n    ${folder}\n    ${device}`)
  if (!out.includes(`<listenAddress>tcp://127.0.0.1:${self.listen}</listenAddress>`) || !out.includes('<globalAnnounceEnabled>false<')) {
    throw new Error('could not configure Syncthing for loopback only')
  }
  return out
}

async function api (inst: Instance, path: string, method = 'GET'): Promise<Response> {
  const url = `http://127.0.0.1:${inst.gui}${path}`
  assertLoopback(url)
  return await fetch(url, { method, headers: { 'X-API-Key': inst.apikey }, signal: AbortSignal.timeout(5000) })
}

/** Starts A (send-only) and B (receive-only) under `dir`, connected, with a warm-up file synced. */
export async function startSyncthingPair (procs: Procs, dir: string): Promise<SyncthingPair> {
  const insts: Instance[] = ['a', 'b'].map((name, i) => ({
    name, home: join(dir, `st-${name}`), folder: join(dir, `st-${name}-folder`), id: '', listen: 22001 + i, gui: 8384 + i, apikey: randomBytes(16).toString('hex')
  }))
  const [a, b] = insts as [Instance, Instance]
  for (const inst of insts) {
    await mkdir(join(inst.folder, '.stfolder'), { recursive: true })
    const gen = spawnSync('syncthing', ['generate', `--home=${inst.home}`, '--no-default-folder', '--skip-port-probing'], { encoding: 'utf8', env: { ...process.env, ...ENV, HOME: inst.home } })
    inst.id = /Device ID: ([A-Z0-9-]+)/.exec(gen.stdout + gen.stderr)?.[1] ?? ''
    if (gen.status !== 0 || inst.id === '') throw new Error(`syncthing generate failed: ${gen.stdout}${gen.stderr}`)
  }
  for (const [self, other, type] of [[a, b, 'sendonly'], [b, a, 'receiveonly']] as const) {
    const file = join(self.home, 'config.xml')
    await writeFile(file, configure(await readFile(file, 'utf8'), self, other, type))
  }
  const started: Proc[] = []
  const stop = async (): Promise<void> => { await procs.stop(started) }
  try {
    for (const inst of insts) {
      inst.proc = procs.spawn(`syncthing-${inst.name}`, 'syncthing', ['serve', `--home=${inst.home}`, '--no-browser', '--no-restart', '--no-upgrade', '--no-default-folder',
        '--skip-port-probing', `--gui-address=http://127.0.0.1:${inst.gui}`, `--gui-apikey=${inst.apikey}`], { env: { ...ENV, HOME: inst.home }, log: join(dir, `syncthing-${inst.name}.log`) })
      started.push(inst.proc)
    }
    for (const inst of insts) await waitForHttp(`http://127.0.0.1:${inst.gui}/rest/system/ping`, 30_000, { 'X-API-Key': inst.apikey })
    for (const inst of insts) {
      const cfg = await (await api(inst, '/rest/config')).json() as { options: Record<string, unknown>, folders: Array<{ id: string, type: string }> }
      if (cfg.options.globalAnnounceEnabled !== false || cfg.options.localAnnounceEnabled !== false || cfg.options.relaysEnabled !== false ||
        cfg.options.natEnabled !== false || cfg.options.urAccepted !== -1 || cfg.options.crashReportingEnabled !== false) {
        throw new Error(`syncthing ${inst.name} did not take the loopback-only options: ${JSON.stringify(cfg.options)}`)
      }
      if (cfg.folders.find(f => f.id === FOLDER) == null) throw new Error(`syncthing ${inst.name} has no folder ${FOLDER}: ${JSON.stringify(cfg.folders)}`)
    }
    await waitFor(async () => {
      const res = await api(a, '/rest/system/connections').catch(() => undefined)
      const json = await res?.json().catch(() => undefined) as { connections?: Record<string, { connected: boolean }> } | undefined
      return json?.connections?.[b.id]?.connected === true
    }, { timeout: 60_000, interval: 200, message: () => `syncthing A to connect to B; A's log ends:\n${a.proc?.tail()}` })

    const sync = async (source: string, name: string, timeout: number): Promise<SyncResult> => {
      const size = (await stat(source)).size
      const target = join(b.folder, name)
      const t0 = performance.now()
      await rename(source, join(a.folder, name))
      const scan = await api(a, `/rest/db/scan?folder=${FOLDER}&sub=${encodeURIComponent(name)}`, 'POST')
      if (!scan.ok) throw new Error(`syncthing scan: ${scan.status} ${await scan.text()}`)
      let indexed = 0
      await waitFor(async () => {
        if (indexed === 0 && (await api(a, `/rest/db/file?folder=${FOLDER}&file=${encodeURIComponent(name)}`).then(r => r.ok, () => false))) indexed = performance.now()
        return await stat(target).then(s => s.size === size, () => false)
      }, { timeout, interval: 20, message: () => `syncthing B to receive ${name}; B's log ends:\n${b.proc?.tail()}` })
      const done = performance.now()
      if (indexed === 0) indexed = done
      const [want, got] = await Promise.all([sha256File(join(a.folder, name)), sha256File(target)])
      if (want !== got) throw new Error(`syncthing copy of ${name}: sha256 ${got}, want ${want}`)
      return { bytes: size, totalMs: done - t0, indexedMs: indexed - t0, pullMs: done - indexed }
    }

    // warm-up: a small file first, so the connection and the index exchange are done
    const warm = join(dir, 'st-warmup.bin')
    await writeFile(warm, randomBytes(4 * 1024 * 1024))
    await sync(warm, 'warmup.bin', 60_000)
    return { sync, stop }
  } catch (err) {
    await stop()
    throw err
  }
}
