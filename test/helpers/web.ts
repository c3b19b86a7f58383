/**
 * Helpers of the web tests: a raw HTTP request (Host, Origin and Cookie headers as given,
 * which fetch() would rewrite or refuse), and a local swarm whose first node serves its page.
 */
import { request as httpRequest } from 'node:http'
import { createLocalSwarm, type LocalSwarm } from '../../src/testing/index.js'
import { startWebServer, type RunningWeb, type WebInit } from '../../src/web/index.js'

export interface RawResponse { status: number, headers: Record<string, string | string[] | undefined>, body: Buffer }

export async function raw (url: string, options: { method?: string, headers?: Record<string, string>, body?: Uint8Array | string } = {}): Promise<RawResponse> {
  const u = new URL(url)
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: u.hostname, port: u.port, path: u.pathname + u.search, method: options.method ?? 'GET', headers: options.headers ?? {} }, (res) => {
      const parts: Buffer[] = []
      res.on('data', (c: Buffer) => parts.push(c))
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }) })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(options.body)
  })
}

interface TestContext { after: (fn: () => Promise<void> | void) => void }

/** Two (or more) nodes meshed on 127.0.0.1, mdns off; each given node index serves a web page on port 0. */
export async function webSwarm (t: TestContext, size: number, web: number[], init: WebInit = {}): Promise<{ swarm: LocalSwarm, webs: RunningWeb[] }> {
  const swarm = await createLocalSwarm({ size, nodes: Object.fromEntries(Array.from({ length: size }, (_, i) => [i, { name: `node-${'AB'[i] ?? i}` }])) })
  const webs: RunningWeb[] = []
  t.after(async () => {
    for (const w of webs) await w.stop()
    await swarm.stop()
  })
  for (const i of web) webs.push(await startWebServer(swarm.nodes[i]!, { port: 0, ...init }))
  return { swarm, webs }
}
