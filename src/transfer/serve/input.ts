/**
 * The input loop of one serving stream: reads request frames (WANT_HAVE, WANT_BLOCK, CANCEL)
 * and turns them into wants, remembered want-haves and answers. A peer that does not read its
 * answers is not read either: at MAX_CONTROL_FRAMES_PER_STREAM queued answer frames the loop
 * waits until the output sends some, so answers cannot pile up. Nor can requests: a peer whose
 * streams hold more unread requests than MAX_UNREAD_REQUEST_BYTES_PER_PEER loses the fullest.
 */
import * as lp from 'it-length-prefixed'
import type { CID } from 'multiformats/cid'
import { MAX_FRAME_SIZE } from '../constants.js'
import { decodeFrame, FrameType } from '../messages.js'
import type { BlockBytes } from '../../content/index.js'
import type { BlockStore } from '../types.js'
import type { Admission } from './admission.js'
import type { Ledger } from './ledger.js'
import type { ServeStream } from './stream.js'
import type { SuperSeeder } from './super-seed.js'

export interface InputContext {
  store: BlockStore
  landing: ReadonlyMap<string, BlockBytes>
  admission: Admission
  seeder: SuperSeeder
  ledger: Ledger
  maxHaveSubscriptions: number
  /** Resets the peer's streams holding the most unread requests while they hold more than allowed. */
  checkBacklog: (peer: string) => void
}

/** Reads `s` until its peer ends it; a malformed frame throws BlockProtocolError (messages.ts). */
export async function readInput (ctx: InputContext, s: ServeStream): Promise<void> {
  for await (const buf of lp.decode(s.stream.source, { maxDataLength: MAX_FRAME_SIZE })) {
    // every read gives the peer a window of credit anew (ByteStream.unread): what it sent and
    // is not read yet is checked at every frame, and by the server's sweep while paused here
    ctx.checkBacklog(s.peer)
    while (s.answersFull && !s.closed) await s.backlogged()
    if (s.closed) return
    const frame = decodeFrame(buf)
    if (s.firstWanted == null && (frame.type === FrameType.WANT_HAVE || frame.type === FrameType.WANT_BLOCK)) s.firstWanted = frame.cids[0]?.toString()
    if (frame.type === FrameType.WANT_HAVE) {
      // the store's has() is a file-system call: ask for the whole frame at once
      const present = await Promise.all(frame.cids.map(async cid => {
        const key = cid.toString()
        return ctx.landing.has(key) || await ctx.store.has(key).catch(() => false)
      }))
      if (s.closed) return
      const have: CID[] = []
      let lacking = false
      frame.cids.forEach((cid, i) => {
        const key = cid.toString()
        if (present[i] === true) {
          have.push(cid)
        } else {
          lacking = true
          if (s.subscriptions.size < ctx.maxHaveSubscriptions) s.subscriptions.set(key, frame.v0.has(key))
        }
      })
      if (lacking) {
        // a downloader itself: everything it has is news, tell it all
        if (have.length > 0) s.sendList(FrameType.HAVE, have.map(cid => s.wire(cid, frame.v0.has(cid.toString()))))
      } else {
        // a complete copy: super-seed
        ctx.seeder.offer(s, have, frame.v0)
      }
    } else if (frame.type === FrameType.WANT_BLOCK) {
      const busy = ctx.admission.admit(s, frame.cids, frame.v0)
      if (busy.length > 0) {
        ctx.ledger.totals.busy += busy.length
        s.sendList(FrameType.BUSY, busy.map(cid => s.wire(cid, frame.v0.has(cid.toString()))))
      }
      s.notify()
    } else if (frame.type === FrameType.CANCEL) {
      ctx.admission.cancel(s, frame.cids)
    }
    // other frame types are answers, meaningless here; unknown types are ignored (forward compatibility)
  }
  s.inputEnded = true
  s.notify()
}
