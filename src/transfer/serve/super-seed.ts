/**
 * Super-seeding: of the blocks a peer asks about, reveal (HAVE) only a share, blocks revealed
 * to no other open stream first, so that peers downloading the same file at once get
 * different blocks from us and trade the rest among themselves. One more block revealed to
 * nobody else is revealed per block served; when the peer has asked us for nothing for a
 * while (REVEAL_IDLE_MS, doubling up to 16x), another share, already revealed ones included
 * (it may be stuck without us). A lone downloader sees up to REVEAL_MAX blocks ahead.
 */
import { CID } from 'multiformats/cid'
import { REVEAL_IDLE_MS, REVEAL_MAX, REVEAL_MIN } from '../constants.js'
import { FrameType } from '../messages.js'
import type { ServeStream } from './stream.js'

export class SuperSeeder {
  /** How many open streams each block was revealed to. */
  private readonly revealed = new Map<string, number>()

  constructor (
    /** Open streams now (a share is what is hidden divided by these). */
    private readonly openStreams: () => number,
    /** Most blocks a stream keeps hidden; beyond, they are revealed at once. */
    private readonly maxHidden: number
  ) {}

  /** A WANT_HAVE of blocks that are all here (a complete copy asking): hide them, reveal a share. */
  offer (s: ServeStream, have: CID[], v0: ReadonlySet<string>): void {
    const overflow: CID[] = []
    for (const cid of have) {
      const key = cid.toString()
      if (s.hidden.has(key)) continue
      // revealed before (asked again): say so again; else hide it, while there is room
      if (!s.revealedHere.has(key) && s.hidden.size < this.maxHidden) s.hidden.set(key, v0.has(key))
      else overflow.push(s.wire(cid, v0.has(key)))
    }
    if (overflow.length > 0) s.sendList(FrameType.HAVE, overflow)
    s.revealDelay = REVEAL_IDLE_MS
    this.reveal(s, this.batch(s))
  }

  /** A block was sent on `s`: reveal one more that nobody else was shown. */
  onServed (s: ServeStream): void {
    if (s.hidden.size > 0 && !s.answersFull) this.reveal(s, 1, true)
  }

  /** The stream has nothing to send: reveal another share after a while, unless it asks first. */
  arm (s: ServeStream): void {
    if (s.hidden.size === 0 || s.revealTimer != null) return
    s.revealTimer = setTimeout(() => {
      s.revealTimer = undefined
      if (s.closed || s.queue.length > 0 || s.active) return
      if (!s.answersFull) this.reveal(s, this.batch(s))
      s.revealDelay = Math.min(s.revealDelay * 2, REVEAL_IDLE_MS * 16)
      this.arm(s)
    }, s.revealDelay)
    s.revealTimer.unref?.()
  }

  /** The stream closed: its reveals no longer count. */
  forget (s: ServeStream): void {
    for (const key of s.revealedHere) {
      const n = (this.revealed.get(key) ?? 1) - 1
      if (n <= 0) this.revealed.delete(key)
      else this.revealed.set(key, n)
    }
    s.revealedHere.clear()
  }

  private batch (s: ServeStream): number {
    const share = Math.ceil(s.hidden.size / Math.max(1, this.openStreams()))
    return Math.max(REVEAL_MIN, Math.min(REVEAL_MAX, share))
  }

  private reveal (s: ServeStream, n: number, onlyNovel = false): void {
    if (n <= 0 || s.hidden.size === 0 || s.closed) return
    let picked: Array<[string, boolean, number]> = []
    if (n >= s.hidden.size && !onlyNovel) {
      picked = [...s.hidden].map(([k, v0]) => [k, v0, 0])
    } else {
      for (const [key, v0] of s.hidden) {
        const count = this.revealed.get(key) ?? 0
        if (onlyNovel && count > 0) continue
        const score = count + Math.random() * 0.5
        if (picked.length < n) {
          picked.push([key, v0, score])
          picked.sort((a, b) => a[2] - b[2])
        } else if (score < (picked[picked.length - 1]?.[2] ?? Infinity)) {
          picked[picked.length - 1] = [key, v0, score]
          picked.sort((a, b) => a[2] - b[2])
        }
      }
    }
    if (picked.length === 0) return
    for (const [key] of picked) {
      s.hidden.delete(key)
      s.revealedHere.add(key)
      this.revealed.set(key, (this.revealed.get(key) ?? 0) + 1)
    }
    s.sendList(FrameType.HAVE, picked.map(([key, v0]) => s.wire(CID.parse(key), v0)))
  }
}
