/** `swarmdrop key gen [-o FILE]`: a new swarm key in kubo's format. */
import { open } from 'node:fs/promises'
import { resolve } from 'node:path'
import type { CommandFn } from '../context.js'
import { EXIT, ExitError, UsageError } from '../errors.js'

export const key: CommandFn<'key'> = async (ctx) => {
  const action = ctx.positionals[0]
  if (action !== 'gen') throw new UsageError(`unknown action "${action ?? ''}"; the only one is \`gen\``, 'key')
  const { generateSwarmKey } = await import('../../net/swarm-key.js')
  const text = generateSwarmKey()
  const file = ctx.flags.output
  if (file == null) {
    if (ctx.out.json) ctx.out.data({ key: text })
    else ctx.out.raw(text)
    return
  }
  const path = resolve(ctx.cwd, file)
  try {
    const fh = await open(path, 'wx', 0o600)
    try {
      await fh.writeFile(text)
    } finally {
      await fh.close()
    }
  } catch (err: any) {
    ctx.out.error(err.code === 'EEXIST'
      ? `${path} already exists; a swarm key is never overwritten (the nodes using it would be cut off). Remove it or pick another file`
      : `cannot write ${path} (${err.code ?? err.message})`)
    throw new ExitError(EXIT.FAILED)
  }
  ctx.out.data({ path })
  ctx.out.print(`wrote a new swarm key to ${path} (owner-only); give it to every node with --swarm-key ${file}`)
}
