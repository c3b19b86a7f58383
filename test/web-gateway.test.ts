/**
 * Issue 16, acceptance 2 to 4 without a browser: the web server's checks (token, Host,
 * same-origin) and the IPFS gateway (file, Range, CAR verified with @ipld/car and hashes
 * computed here, raw blocks, a CID nobody has, @helia/verified-fetch).
 */
import '../src/polyfill.js'
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { CarReader } from '@ipld/car'
import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import { CID } from 'multiformats/cid'
import * as rawCodec from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { InvalidWebPortError, loadOrCreateToken, startWebServer, TOKEN_FILE, WebListenError, WebRequestError } from '../src/web/index.js'
import { parseRange } from '../src/web/gateway.js'
import { raw, webSwarm } from './helpers/web.js'

const MiB = 1024 * 1024

/** Checks a block against its CID with multiformats' own sha2-256, not swarmdrop's verifier. */
async function assertBlock (cid: CID, bytes: Uint8Array): Promise<void> {
  assert.equal(cid.multihash.code, sha256.code)
  const digest = await sha256.digest(bytes)
  assert.deepEqual(digest.digest, cid.multihash.digest, `block ${cid.toString()} hashes to its CID`)
}

test('the page and its API need the token, a loopback Host, and same-origin POSTs', async (t) => {
  const { swarm, webs: [web] } = await webSwarm(t, 1, [0])
  const node = swarm.nodes[0]!
  const base = web!.origin
  const host = `127.0.0.1:${web!.port}`
  const token = web!.token

  // the token is kept in the repository, owner only, and reused
  assert.equal((await stat(join(node.repo, TOKEN_FILE))).mode & 0o777, 0o600)
  assert.equal(await loadOrCreateToken(node.repo), token)
  assert.match((await readFile(join(node.repo, TOKEN_FILE), 'utf8')).trim(), /^[A-Za-z0-9_-]{43}$/)

  // without the token
  for (const path of ['/', '/api/state', '/app.js', '/api/events']) {
    const res = await raw(base + path)
    assert.equal(res.status, 401, path)
    assert.match(res.body.toString(), /token/)
  }
  assert.equal((await raw(`${base}/api/state?token=wrong${token.slice(5)}`)).status, 401)

  // with it: the query sets a cookie and the page drops the token from the address
  const first = await raw(`${base}/?token=${token}`)
  assert.equal(first.status, 303)
  assert.equal(first.headers.location, '/')
  const cookie = String(first.headers['set-cookie']).split(';')[0]!
  assert.match(String(first.headers['set-cookie']), /HttpOnly; SameSite=Strict/)
  const page = await raw(base + '/', { headers: { Cookie: cookie } })
  assert.equal(page.status, 200)
  assert.match(page.body.toString(), /<script type="module" src="\/app.js">/)
  const state = JSON.parse((await raw(base + '/api/state', { headers: { Authorization: `Bearer ${token}` } })).body.toString())
  assert.equal(state.self.peerId, node.peerId)

  // a wrong Host is refused, token or not, gateway included (DNS rebinding)
  for (const h of ['evil.example', `evil.example:${web!.port}`, `192.168.1.10:${web!.port}`, `127.0.0.1.evil.example:${web!.port}`]) {
    const res = await raw(base + '/api/state', { headers: { Host: h, Cookie: cookie } })
    assert.equal(res.status, 403, h)
    assert.match(res.body.toString(), /Host/)
    assert.equal((await raw(base + '/ipfs/bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku', { headers: { Host: h } })).status, 403)
  }
  for (const h of [`localhost:${web!.port}`, `[::1]:${web!.port}`, host]) {
    assert.equal((await raw(base + '/api/state', { headers: { Host: h, Cookie: cookie } })).status, 200, h)
  }

  // a cross-origin POST with the cookie is refused and does nothing
  const before = (await node.store.list()).length
  const body = 'not to be shared'
  for (const headers of [{ Origin: 'http://evil.example' } as Record<string, string>, { Origin: `http://localhost:${web!.port + 1}` }, { Origin: 'null' }, { 'Sec-Fetch-Site': 'cross-site' }]) {
    const res = await raw(base + '/api/share?name=x.txt', { method: 'POST', headers: { Host: host, Cookie: cookie, ...headers }, body })
    assert.equal(res.status, 403, JSON.stringify(headers))
    assert.match(res.body.toString(), /cross-origin/)
  }
  assert.equal((await node.store.list()).length, before)
  // the same POST from the page's own origin goes through
  const ok = await raw(base + '/api/share?name=x.txt', { method: 'POST', headers: { Host: host, Cookie: cookie, Origin: base, 'Sec-Fetch-Site': 'same-origin' }, body })
  assert.equal(ok.status, 200, ok.body.toString())
  assert.equal(JSON.parse(ok.body.toString()).name, 'x.txt')
  assert.equal((await node.store.list()).length, before + 1)

  // the gateway needs no token; the API's errors are named
  assert.equal((await raw(`${base}/ipfs/${JSON.parse(ok.body.toString()).cid as string}`)).body.toString(), body)
  const bad = await raw(base + '/api/pin', { method: 'POST', headers: { Cookie: cookie, Origin: base }, body: '{"cid":"nope"}' })
  assert.equal(bad.status, 400)
  assert.equal(JSON.parse(bad.body.toString()).error.name, 'WebRequestError')
})

test('web errors carry their names; Range parsing', () => {
  for (const [Err, err] of [[WebListenError, new WebListenError(1, 'EADDRINUSE')], [InvalidWebPortError, new InvalidWebPortError(-1)], [WebRequestError, new WebRequestError(400, 'x')]] as const) {
    assert.equal(err.name, Err.name)
    assert.equal(Err.name, err.constructor.name)
  }
  assert.deepEqual(parseRange('bytes=0-9', 100), { start: 0, end: 9 })
  assert.deepEqual(parseRange('bytes=90-200', 100), { start: 90, end: 99 })
  assert.deepEqual(parseRange('bytes=-10', 100), { start: 90, end: 99 })
  assert.deepEqual(parseRange('bytes=-1000', 100), { start: 0, end: 99 })
  assert.equal(parseRange('bytes=100-', 100), 'bad')
  assert.equal(parseRange('bytes=5-4', 100), 'bad')
  assert.equal(parseRange('bytes=-0', 100), 'bad')
  assert.equal(parseRange('bytes=0-1,5-6', 100), undefined)
  assert.equal(parseRange('items=0-1', 100), undefined)
  assert.equal(parseRange(undefined, 100), undefined)
})

test('a taken port given explicitly fails by name, and so does a port out of range', async (t) => {
  const { swarm, webs: [web] } = await webSwarm(t, 1, [0])
  await assert.rejects(startWebServer(swarm.nodes[0]!, { port: web!.port }), { name: 'WebListenError' })
  await assert.rejects(startWebServer(swarm.nodes[0]!, { port: 70000 }), { name: 'InvalidWebPortError' })
})

test('gateway: file, Range, CAR and raw blocks checked independently, a CID nobody has, verified-fetch', async (t) => {
  // the default timeout (20 s without a block) for real fetches, which a busy machine may slow down
  const { swarm, webs: [web] } = await webSwarm(t, 2, [0])
  const [a, b] = swarm.nodes as [typeof swarm.nodes[0] & object, typeof swarm.nodes[0] & object]
  const file = randomBytes(5 * MiB + 12345)
  const rec = await b.share(file, { name: 'five.bin' })
  assert.equal(await a.store.has(rec.cid), false)
  const base = `${web!.origin}/ipfs/${rec.cid}`

  // the whole file: A fetches it from B first
  const whole = await raw(base)
  assert.equal(whole.status, 200, whole.body.toString().slice(0, 200))
  assert.equal(whole.body.byteLength, file.byteLength)
  assert.ok(whole.body.equals(file), 'the gateway returns the file')
  assert.equal(whole.headers.etag, `"${rec.cid}"`)
  assert.equal(whole.headers['accept-ranges'], 'bytes')
  assert.equal(whole.headers['content-type'], 'application/octet-stream')
  assert.match(String(whole.headers['content-disposition']), /filename="five\.bin"/)
  assert.equal((await raw(base, { headers: { 'If-None-Match': `"${rec.cid}"` } })).status, 304)

  // ranges, exactly the bytes asked
  for (const [range, start, end] of [['bytes=1000-2999999', 1000, 2999999], ['bytes=5242000-', 5242000, file.byteLength - 1], ['bytes=-777', file.byteLength - 777, file.byteLength - 1], ['bytes=0-0', 0, 0]] as const) {
    const res = await raw(base, { headers: { Range: range } })
    assert.equal(res.status, 206, range)
    assert.equal(res.headers['content-range'], `bytes ${start}-${end}/${file.byteLength}`)
    assert.ok(res.body.equals(file.subarray(start, end + 1)), range)
  }
  const past = await raw(base, { headers: { Range: `bytes=${file.byteLength}-` } })
  assert.equal(past.status, 416)
  assert.equal(past.headers['content-range'], `bytes */${file.byteLength}`)

  // CAR: every block hashes to its CID, the root is the file's, and the leaves rebuild the file
  const car = await raw(`${base}?format=car`)
  assert.equal(car.status, 200)
  assert.match(String(car.headers['content-type']), /^application\/vnd\.ipld\.car; version=1/)
  const reader = await CarReader.fromBytes(car.body)
  const roots = await reader.getRoots()
  assert.equal(roots.length, 1)
  assert.equal(roots[0]!.toString(), rec.cid)
  const blocks = new Map<string, Uint8Array>()
  for await (const { cid, bytes } of reader.blocks()) {
    await assertBlock(CID.asCID(cid)!, bytes)
    blocks.set(cid.toString(), bytes)
  }
  const rootBlock = blocks.get(rec.cid)
  assert.ok(rootBlock != null)
  const rootNode = dagPb.decode(rootBlock)
  assert.equal(UnixFS.unmarshal(rootNode.Data!).type, 'file')
  assert.equal(rootNode.Links.length, 6)
  assert.equal(blocks.size, 7)
  const leaves = rootNode.Links.map(l => {
    assert.equal(l.Hash.code, rawCodec.code)
    const bytes = blocks.get(l.Hash.toString())
    assert.ok(bytes != null, `leaf ${l.Hash.toString()} is in the CAR`)
    return bytes
  })
  assert.ok(Buffer.concat(leaves).equals(file), 'the CAR\'s leaves, in link order, are the file')
  // the same through Accept, and dag-scope=block sends the root alone
  const accepted = await raw(base, { headers: { Accept: 'application/vnd.ipld.car' } })
  assert.ok(accepted.body.equals(car.body))
  const scoped = await CarReader.fromBytes((await raw(`${base}?format=car&dag-scope=block`)).body)
  const only = []
  for await (const blk of scoped.blocks()) only.push(blk.cid.toString())
  assert.deepEqual(only, [rec.cid])

  // raw: one leaf, the block itself
  const leaf = rootNode.Links[3]!.Hash
  for (const res of [await raw(`${web!.origin}/ipfs/${leaf.toString()}?format=raw`), await raw(`${web!.origin}/ipfs/${leaf.toString()}`, { headers: { Accept: 'application/vnd.ipld.raw' } })]) {
    assert.equal(res.status, 200)
    assert.equal(res.headers['content-type'], 'application/vnd.ipld.raw')
    assert.ok(res.body.equals(blocks.get(leaf.toString())!))
    await assertBlock(CID.asCID(leaf)!, res.body)
  }
  assert.ok((await raw(`${base}?format=raw`)).body.equals(rootBlock))

  // a CID nobody has: 504 after the timeout, with a sentence
  const nobody = CID.createV1(rawCodec.code, await sha256.digest(randomBytes(64))).toString()
  const impatient = await startWebServer(a, { port: 0, gatewayTimeout: 1000 })
  t.after(async () => { await impatient.stop() })
  const missing = await raw(`${impatient.origin}/ipfs/${nobody}`)
  assert.equal(missing.status, 504)
  assert.match(String(missing.headers['content-type']), /^text\/plain/)
  assert.match(missing.body.toString(), new RegExp(`no peer of this swarm sent ${nobody}`))
  assert.equal((await raw(`${web!.origin}/ipfs/not-a-cid`)).status, 400)
  assert.equal((await raw(`${base}/some/path`)).status, 404)

  // another verifying client: @helia/verified-fetch over a Helia that knows only this gateway
  // (no libp2p, no delegated routers: nothing leaves 127.0.0.1)
  const { createHeliaLight } = await import('helia')
  const { withHTTP } = await import('@helia/http')
  const { createVerifiedFetchWithHelia } = await import('@helia/verified-fetch')
  const helia = withHTTP(await createHeliaLight({}), { delegatedRouters: [], recursiveGateways: [web!.origin], allowInsecure: true, allowLocal: true })
  // Helia's routing waits for its default routers to finish before it asks the fallback
  // (gateway) router, and never finishes with none: one that finds nothing lets it go on
  helia.addRouter({ name: 'none', findProviders: async function * () {} })
  await helia.start()
  t.after(async () => { await helia.stop() })
  const verifiedFetch = await createVerifiedFetchWithHelia(helia)
  const res = await verifiedFetch(`ipfs://${rec.cid}`, { signal: AbortSignal.timeout(60_000) })
  assert.equal(res.status, 200)
  const got = Buffer.from(await res.arrayBuffer())
  assert.equal(createHash('sha256').update(got).digest('hex'), createHash('sha256').update(file).digest('hex'))
})

test('gateway: a UnixFS folder (plain and HAMT-sharded) lists its entries and serves a file by path', async (t) => {
  const { importer } = await import('ipfs-unixfs-importer')
  const { swarm, webs: [web] } = await webSwarm(t, 2, [0])
  const [, b] = swarm.nodes as [typeof swarm.nodes[0] & object, typeof swarm.nodes[0] & object]
  // the folder is built here with the importer, not by swarmdrop, and put into B's store block by block
  const blocks = new Map<string, Uint8Array>()
  const store = { put: async (cid: any, bytes: Uint8Array) => { blocks.set(cid.toString(), bytes); return cid } }
  const deep = randomBytes(300 * 1024)
  const many = Array.from({ length: 40 }, (_, i) => ({ path: `top/many/f${String(i).padStart(2, '0')} <&>.txt`, content: Buffer.from(`file ${i}`) }))
  let root: CID | undefined
  let manyCid: CID | undefined
  for await (const e of importer([
    { path: 'top/hello world.txt', content: Buffer.from('hello') },
    { path: 'top/sub/ünïcode/deep.bin', content: deep },
    { path: 'top/empty' },
    ...many
  ], store, { cidVersion: 1, rawLeaves: true, shardSplitThresholdBytes: 1024 })) {
    if (e.path === 'top') root = CID.parse(e.cid.toString())
    if (e.path === 'top/many') manyCid = CID.parse(e.cid.toString())
  }
  assert.ok(root != null && manyCid != null)
  for (const [cid, bytes] of blocks) await b.store.putBlock(cid, bytes)
  const manyNode = UnixFS.unmarshal(dagPb.decode(blocks.get(manyCid.toString())!).Data!)
  assert.equal(manyNode.type, 'hamt-sharded-directory', 'the 40-entry folder is sharded')

  const base = `${web!.origin}/ipfs/${root.toString()}`
  const redirect = await raw(base)
  assert.equal(redirect.status, 301, 'a folder without its trailing slash is redirected')
  assert.equal(redirect.headers.location, `/ipfs/${root.toString()}/`)
  const listing = await raw(base + '/')
  assert.equal(listing.status, 200, listing.body.toString().slice(0, 300))
  assert.match(String(listing.headers['content-type']), /^text\/html/)
  const html = listing.body.toString()
  for (const name of ['hello world.txt', 'sub/', 'empty/', 'many/']) assert.ok(html.includes(`>${name}</a>`), `the listing names ${name}`)
  assert.ok(html.includes(`href="/ipfs/${root.toString()}/hello%20world.txt"`))

  const sharded = await raw(base + '/many/')
  assert.equal(sharded.status, 200)
  const shardHtml = sharded.body.toString()
  assert.equal((shardHtml.match(/<tr><td>/g) ?? []).length, 40, 'every entry of the sharded folder is listed')
  assert.ok(shardHtml.includes('f07 &lt;&amp;&gt;.txt'), 'names are escaped')
  assert.ok(!shardHtml.includes('<&>'), 'no raw markup from a name')

  const file = await raw(`${base}/sub/${encodeURIComponent('ünïcode')}/deep.bin`)
  assert.equal(file.status, 200)
  assert.ok(file.body.equals(deep), 'the file by path has its bytes')
  assert.match(String(file.headers['content-disposition']), /filename="deep\.bin"/)
  const part = await raw(`${base}/sub/${encodeURIComponent('ünïcode')}/deep.bin`, { headers: { Range: 'bytes=10-19' } })
  assert.ok(part.body.equals(deep.subarray(10, 20)))
  const one = await raw(`${base}/many/${encodeURIComponent('f07 <&>.txt')}`)
  assert.equal(one.body.toString(), 'file 7', 'a file inside the sharded folder by path')

  const missing = await raw(`${base}/nope.txt`)
  assert.equal(missing.status, 404)
  assert.match(missing.body.toString(), /has no nope\.txt/)
  const through = await raw(`${base}/hello%20world.txt/more`)
  assert.equal(through.status, 404, 'a path through a file names nothing')

  // ?format=tar: the whole folder as one archive, read back by it-tar's extractor (not swarmdrop's code)
  const tar = await raw(`${base}/?format=tar&filename=holiday.tar`)
  assert.equal(tar.status, 200)
  assert.equal(tar.headers['content-type'], 'application/x-tar')
  assert.match(String(tar.headers['content-disposition']), /attachment; filename="holiday\.tar"/)
  const { extract } = await import('it-tar')
  const got = new Map<string, { type: string, bytes: Buffer }>()
  for await (const entry of extract()([tar.body])) {
    const parts: Buffer[] = []
    for await (const chunk of entry.body) parts.push(Buffer.from(chunk.subarray()))
    got.set(entry.header.name.replace(/\/$/u, ''), { type: String(entry.header.type), bytes: Buffer.concat(parts) })
  }
  assert.equal(got.get('holiday/hello world.txt')?.bytes.toString(), 'hello')
  assert.ok(got.get('holiday/sub/ünïcode/deep.bin')?.bytes.equals(deep), 'a UTF-8 path (pax header) with its bytes')
  assert.equal(got.get('holiday/empty')?.type, 'directory', 'an empty folder is kept')
  assert.equal(got.get('holiday/many/f07 <&>.txt')?.bytes.toString(), 'file 7', 'files of the sharded folder')
  assert.equal([...got.keys()].filter(k => k.startsWith('holiday/many/')).length, 40)
  assert.ok([...got.keys()].every(k => (k === 'holiday' || k.startsWith('holiday/')) && !k.split('/').includes('..')), 'every entry inside the folder')
  const subTar = await raw(`${base}/sub/?format=tar`)
  assert.match(String(subTar.headers['content-disposition']), /filename="sub\.tar"/, 'a subfolder is named after its path')
})
