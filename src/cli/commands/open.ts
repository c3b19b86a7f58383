/** `swarmdrop open`: prints the running node's web page URL (docs/WEB.md); --launch opens it. */
import { spawn } from 'node:child_process'
import type { CommandFn } from '../context.js'
import { ExitError, EXIT } from '../errors.js'
import { readWebUrl } from '../../web/index.js'

export const open: CommandFn<'open'> = async (ctx) => {
  const url = await readWebUrl(ctx.repo)
  if (url == null) {
    ctx.out.error(`no web page is served for ${ctx.repo}: start the node with \`swarmdrop start\` (without --no-web)`)
    throw new ExitError(EXIT.USAGE)
  }
  ctx.out.data({ url })
  ctx.out.print(url)
  if (ctx.flags.launch) {
    const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open'
    spawn(opener, [url], { stdio: 'ignore', detached: true }).on('error', (err) => { ctx.out.error(`cannot run ${opener}: ${err.message}; open the URL above by hand`) }).unref()
  }
}
