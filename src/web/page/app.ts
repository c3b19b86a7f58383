/// <reference lib="dom" />
/**
 * The page's script, run in the browser (served as /app.js). Plain DOM, no framework:
 * state comes from GET /api/state, changes from the server-sent events of /api/events,
 * actions are same-origin POSTs (the token travels in the page's cookie).
 */

interface Peer { id: string, name?: string, addrs: string[], connected: boolean, member?: boolean }
interface File { cid: string, name: string, size: number, providers: number, partial: number, otherNames?: string[], local: boolean, pinned: boolean, encrypted: boolean, mine: boolean, files?: number }
interface Transfer { cid: string, name: string, to: 'browser' | 'node', state: 'running' | 'done' | 'failed', bytes: number, total?: number, rate: number, providers: number, error?: string, path?: string }
interface Rate { t: number, up: number, down: number }
interface State { self: { peerId: string, name: string, swarm: string, addrs: string[] }, peers: Peer[], files: File[], transfers: Transfer[] }

const $ = <T extends HTMLElement = HTMLElement>(sel: string): T => document.querySelector(sel) as T
const rates: Rate[] = []
const transfers = new Map<string, Transfer>()
/** Downloads this page asked for: handed to the browser once the node has them. */
const wanted = new Set<string>()
let files: File[] = []

function el (tag: string, attrs: Record<string, string> = {}, ...children: Array<Node | string>): HTMLElement {
  const e = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v)
  for (const c of children) e.append(c)
  return e
}

function bytes (n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let i = 0
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++ }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i] ?? 'B'}`
}

function short (id: string): string {
  return id.length > 16 ? `${id.slice(0, 8)}…${id.slice(-6)}` : id
}

function status (msg: string): void {
  $('#status').textContent = msg
}

async function post (path: string, body: unknown): Promise<any> {
  const res = await fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
  const data = await res.json().catch(() => ({}))
  if (!res.ok) throw new Error(data?.error?.message ?? `${res.status} ${res.statusText}`)
  return data
}

async function act (what: string, fn: () => Promise<unknown>): Promise<void> {
  try {
    status(`${what}…`)
    await fn()
    status(`${what}: done`)
  } catch (err: any) {
    status(`${what} failed: ${err?.message ?? String(err)}`)
  }
  await refresh()
}

function renderPeers (peers: Peer[]): void {
  const list = $('#peers')
  list.replaceChildren(...peers.map(p => el('li', { 'data-peer': p.id, class: p.connected ? 'connected' : 'gone' },
    el('span', { class: 'name' }, p.name ?? short(p.id)),
    el('span', { class: `badge ${p.connected ? 'ok' : 'warn'}` }, p.connected ? 'connected' : 'gone'),
    ...(p.member === false ? [' ', el('span', { class: 'badge warn' }, 'another swarm')] : []),
    el('br'), el('code', { class: 'dim' }, short(p.id)), ' ',
    el('span', { class: 'dim' }, p.addrs.slice(0, 2).join(' ')))))
  if (peers.length === 0) list.append(el('li', { class: 'dim' }, 'nobody yet: start another node on this network'))
  $('#peers-count').textContent = `(${peers.filter(p => p.connected && p.member !== false).length} connected)`
}

function button (label: string, onClick: () => void, primary = false): HTMLElement {
  const b = el('button', { type: 'button', ...(primary ? { class: 'primary' } : {}), 'data-action': label.toLowerCase().replace(/ .*/, '') }, label)
  b.addEventListener('click', onClick)
  return b
}

function download (f: File): void {
  wanted.add(f.cid)
  if (f.local) {
    handOver(f.cid, f.name)
    return
  }
  void act(`fetching ${f.name}`, async () => post('/api/fetch', { cid: f.cid, to: 'browser' }))
}

/**
 * The node has the file: the browser downloads it from the gateway, streamed, under its name
 * and type; a folder comes as one tar archive (`?format=tar`) named after it.
 */
function handOver (cid: string, name: string): void {
  wanted.delete(cid)
  const folder = files.find(f => f.cid === cid)?.files != null
  const file = folder ? `${name}.tar` : name
  const href = folder ? `/ipfs/${cid}/?format=tar&filename=${encodeURIComponent(file)}` : `/ipfs/${cid}?download=true&filename=${encodeURIComponent(name)}`
  const a = el('a', { href, download: file }) as HTMLAnchorElement
  document.body.append(a)
  a.click()
  a.remove()
}

function renderFiles (): void {
  const list = $('#files')
  list.replaceChildren(...files.map(f => {
    const state = f.local ? (f.pinned ? 'pinned' : 'here') : 'in the swarm'
    const actions = el('div', { class: 'actions' },
      button('Download', () => { download(f) }, true),
      button('Save on node', () => { void act(`saving ${f.name} on the node`, async () => post('/api/fetch', { cid: f.cid, to: 'node' })) }))
    if (f.local && f.pinned) actions.append(button('Unpin', () => { void act(`unpinning ${f.name}`, async () => post('/api/unpin', { cid: f.cid })) }))
    else actions.append(button('Pin', () => { void act(`pinning ${f.name}`, async () => post('/api/pin', { cid: f.cid })) }))
    if (f.local) actions.append(button('Remove', () => { void act(`removing ${f.name}`, async () => post('/api/rm', { cid: f.cid })) }))
    return el('li', { 'data-cid': f.cid, 'data-local': String(f.local) },
      el('span', { class: 'name' }, f.files != null ? `${f.name}/` : f.name),
      el('span', { class: `badge ${f.local ? 'ok' : ''}` }, state),
      f.encrypted ? el('span', { class: 'badge warn' }, 'encrypted') : '',
      el('br'),
      el('span', { class: 'dim' }, `${bytes(f.size)}${f.files != null ? ` in ${f.files} file${f.files === 1 ? '' : 's'}` : ''} · ${f.providers} provider${f.providers === 1 ? '' : 's'}${f.partial > 0 ? ` (+${f.partial} partial)` : ''}${f.otherNames != null ? ` · also named ${f.otherNames.join(', ')}` : ''} · `),
      el('a', { href: `/ipfs/${f.cid}${f.files != null ? '/' : ''}`, class: 'dim', target: '_blank', rel: 'noopener' }, el('code', {}, short(f.cid))),
      actions)
  }))
  if (files.length === 0) list.append(el('li', { class: 'dim' }, 'no file shared yet: drop one above'))
  $('#files-count').textContent = `(${files.length})`
}

function renderTransfers (): void {
  const list = $('#transfers')
  const items = [...transfers.values()].reverse()
  list.replaceChildren(...items.map(t => {
    const total = t.total ?? 0
    const pct = total > 0 ? Math.floor(t.bytes / total * 100) : (t.state === 'done' ? 100 : 0)
    const where = t.state === 'done' ? (t.to === 'node' ? `saved to ${t.path ?? 'the download folder'}` : 'done') : t.state === 'failed' ? `failed: ${t.error ?? ''}` : `${bytes(t.rate)}/s from ${t.providers} peer${t.providers === 1 ? '' : 's'}`
    return el('li', { 'data-cid': t.cid, 'data-state': t.state },
      el('span', { class: 'name' }, t.name), ' ', el('span', { class: 'pct' }, `${pct}%`), ' ', el('span', { class: 'dim' }, where),
      el('progress', { 'data-cid': t.cid, max: String(Math.max(total, 1)), value: String(total > 0 ? t.bytes : (t.state === 'done' ? 1 : 0)) }))
  }))
  if (items.length === 0) list.append(el('li', { class: 'dim' }, 'no transfer yet'))
}

function renderChart (): void {
  const last = rates.slice(-300)
  const max = Math.max(1, ...last.map(r => Math.max(r.up, r.down)))
  const points = (pick: (r: Rate) => number): string => last.map((r, i) => `${(300 - last.length + i).toFixed(0)},${(58 - pick(r) / max * 56).toFixed(1)}`).join(' ')
  $('#chart-down').setAttribute('points', points(r => r.down))
  $('#chart-up').setAttribute('points', points(r => r.up))
  const now = last[last.length - 1]
  $('#rate-down').textContent = `${bytes(now?.down ?? 0)}/s`
  $('#rate-up').textContent = `${bytes(now?.up ?? 0)}/s`
}

async function refresh (): Promise<void> {
  const res = await fetch('/api/state')
  if (!res.ok) {
    status(res.status === 401 ? 'the token is missing: open the URL printed by `swarmdrop start`' : `the node answered ${res.status}`)
    return
  }
  const s: State = await res.json()
  $('#self-name').textContent = s.self.name
  $('#self-info').textContent = `${short(s.self.peerId)} · swarm ${s.self.swarm}`
  document.title = `swarmdrop · ${s.self.name}`
  files = s.files
  renderPeers(s.peers)
  renderFiles()
  for (const t of s.transfers) transfers.set(t.cid, t)
  renderTransfers()
}

/** Uploads one file to the node (XHR for its upload progress), which imports and announces it. */
async function upload (file: globalThis.File): Promise<void> {
  const bar = el('progress', { max: String(Math.max(file.size, 1)), value: '0' }) as HTMLProgressElement
  const item = el('li', { 'data-upload': file.name }, el('span', { class: 'name' }, file.name), ' ', el('span', { class: 'dim' }, bytes(file.size)), bar)
  $('#uploads').prepend(item)
  await new Promise<void>((resolve) => {
    const xhr = new XMLHttpRequest()
    xhr.open('POST', `/api/share?name=${encodeURIComponent(file.name)}`)
    xhr.upload.onprogress = (e) => { bar.value = e.loaded }
    xhr.onload = () => {
      if (xhr.status === 200) {
        const r = JSON.parse(xhr.responseText)
        bar.value = bar.max
        item.dataset.cid = r.cid
        item.append(el('span', { class: 'dim' }, ` shared as ${short(r.cid)}`))
        status(`shared ${file.name}`)
      } else {
        item.append(el('span', { class: 'badge warn' }, `failed: ${xhr.responseText}`))
      }
      resolve()
    }
    xhr.onerror = () => { item.append(el('span', { class: 'badge warn' }, 'failed: network error')); resolve() }
    xhr.send(file)
  })
  await refresh()
}

function setupShare (): void {
  const drop = $('#drop')
  const picker = $<HTMLInputElement>('#picker')
  const take = (list: FileList | null | undefined): void => {
    for (const f of Array.from(list ?? [])) void upload(f)
  }
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over') })
  drop.addEventListener('dragleave', () => { drop.classList.remove('over') })
  drop.addEventListener('drop', (e) => {
    e.preventDefault()
    drop.classList.remove('over')
    take(e.dataTransfer?.files)
  })
  drop.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') picker.click() })
  picker.addEventListener('change', () => { take(picker.files); picker.value = '' })
}

function listen (): void {
  const events = new EventSource('/api/events')
  events.addEventListener('open', () => { status('live') })
  events.addEventListener('error', () => { status('reconnecting…') })
  events.addEventListener('rates', (e) => {
    rates.splice(0, rates.length, ...JSON.parse((e as MessageEvent).data))
    renderChart()
  })
  events.addEventListener('rate', (e) => {
    rates.push(JSON.parse((e as MessageEvent).data))
    if (rates.length > 300) rates.shift()
    renderChart()
  })
  events.addEventListener('transfer', (e) => {
    const t: Transfer = JSON.parse((e as MessageEvent).data)
    transfers.set(t.cid, t)
    renderTransfers()
    if (t.state === 'done' && t.to === 'browser' && wanted.has(t.cid)) handOver(t.cid, t.name)
  })
  events.addEventListener('changed', () => { void refresh() })
}

setupShare()
listen()
void refresh()
