/** `swarmdrop pub TOPIC MESSAGE` and `swarmdrop sub TOPIC`, through the running node. */
import type { CommandFn } from '../context.js'
import { request } from '../../control/client.js'
import { printable, shortId } from '../format.js'

export const pub: CommandFn<'pub'> = async (ctx) => {
  const [topic, message] = ctx.positionals as [string, string]
  const global = ctx.flags.global
  const res = await request(ctx.repo, 'pub', { topic, message, ...(global ? { global } : {}) }, { signal: ctx.signal })
  ctx.out.data({ topic, ...(global ? { global } : {}), recipients: res.recipients })
  ctx.out.print(`published on ${global ? 'the global topic ' : ''}${topic} to ${res.recipients} peer${res.recipients === 1 ? '' : 's'}`)
}

export const sub: CommandFn<'sub'> = async (ctx) => {
  const [topic] = ctx.positionals as [string]
  // runs until interrupted: main() turns the abort into exit 130
  const global = ctx.flags.global
  await request(ctx.repo, 'sub', { topic, ...(global ? { global } : {}) }, {
    signal: ctx.signal,
    onEvent: (evt) => {
      if ('subscribed' in evt) {
        ctx.out.note(`listening on ${global ? 'the global topic ' : ''}${topic}; Ctrl-C to stop`)
        if (ctx.out.json) ctx.out.event({ event: 'subscribed', topic })
        return
      }
      if (ctx.out.json) {
        ctx.out.event({ event: 'message', ...evt })
      } else {
        const who = evt.name != null ? `${printable(evt.name)} (${shortId(evt.from)})` : evt.from
        ctx.out.print(`${ctx.out.style('dim', who + ':')} ${printable(evt.data)}`)
      }
    }
  })
}
