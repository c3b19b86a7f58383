/**
 * One inbound block stream as the server sees it: what its peer wants (queued blocks,
 * remembered want-haves, blocks hidden by super-seeding), the answer frames waiting to be
 * sent, and whether the peer reads what is sent (for LATER and the byte budgets).
 *
 * Keys are CIDv1 strings; each map's value says whether the peer asked in CIDv0 form, so
 * answers carry the form it asked in (docs/PROTOCOL.md, `### Frames`).
 */
import * as lp from 'it-length-prefixed'
import { CID } from 'multiformats/cid'
import type { Uint8ArrayList } from 'uint8arraylist'
import { MAX_CIDS_PER_FRAME, MAX_CONTROL_FRAMES_PER_STREAM } from '../constants.js'
import { encodeList, FrameType, wireCid, type ListFrameType } from '../messages.js'
import type { ByteStream } from '../types.js'

interface AnswerFrame {
  type: ListFrameType
  cids: CID[]
}

export class ServeStream {
  /** Wanted blocks in the order asked; `queued` says which are still wanted (a CANCEL removes). */
  queue: CID[] = []
  readonly queued = new Map<string, boolean>()
  /** Want-haves of blocks we lack, answered HAVE when the block lands. */
  readonly subscriptions = new Map<string, boolean>()
  /** Remembered want-haves whose block landed, waiting for room among the answer frames. */
  readonly ready = new Map<string, boolean>()
  /** Blocks this peer asked about that we have but have not revealed yet (super-seeding). */
  readonly hidden = new Map<string, boolean>()
  /** Blocks revealed to this peer (their counts drop when the stream closes). */
  readonly revealedHere = new Set<string>()
  revealTimer?: ReturnType<typeof setTimeout>
  revealDelay: number
  /** Blocks sent to this peer, and blocks answered LATER (each is answered LATER once). */
  readonly servedHere = new Set<string>()
  readonly deferredHere = new Set<string>()
  /** Answer frames (HAVE, DONT_HAVE, BUSY), sent before any block. */
  private readonly answers: AnswerFrame[] = []
  active = false
  inputEnded = false
  closed = false
  /** When the frame being sent was handed over (undefined: nothing waits for the peer). */
  waitingSince?: number
  /** When the peer last took a frame (or the stream opened). */
  lastTaken: number
  /** Waited past SEND_STALL_MS for the peer to take a frame; cleared when it does. */
  stalled = false
  /** Set by the output loop: gives back the block reservations of a stalled stream. */
  onStall?: () => void
  private wake?: () => void
  private drained?: () => void

  constructor (readonly stream: ByteStream, revealDelay: number, now: number) {
    this.revealDelay = revealDelay
    this.lastTaken = now
  }

  get peer (): string {
    return this.stream.remotePeer
  }

  /** Answer frames queued now. */
  get answerFrames (): number {
    return this.answers.length
  }

  /** Room for asynchronous answers (HAVE of landed or revealed blocks) without passing the cap. */
  get answersFull (): boolean {
    return this.answers.length >= MAX_CONTROL_FRAMES_PER_STREAM
  }

  /** The form of `key`'s CID this peer asked in. */
  wire (cid: CID, v0: boolean | undefined): CID {
    return wireCid(cid, v0 === true)
  }

  notify (): void {
    const wake = this.wake
    this.wake = undefined
    wake?.()
  }

  async idle (): Promise<void> {
    await new Promise<void>(resolve => { this.wake = resolve })
  }

  /** The output took an answer frame (or the stream closed): the input may read on. */
  notifyDrained (): void {
    const drained = this.drained
    this.drained = undefined
    drained?.()
  }

  async backlogged (): Promise<void> {
    await new Promise<void>(resolve => { this.drained = resolve })
  }

  /** Queues an answer list (CIDs in wire form), merged into the last frame of its type when it fits. */
  sendList (type: ListFrameType, cids: CID[]): void {
    let i = 0
    const last = this.answers[this.answers.length - 1]
    if (last?.type === type) {
      const room = MAX_CIDS_PER_FRAME - last.cids.length
      for (; i < cids.length && i < room; i++) last.cids.push(cids[i]!)
    }
    for (; i < cids.length; i += MAX_CIDS_PER_FRAME) this.answers.push({ type, cids: cids.slice(i, i + MAX_CIDS_PER_FRAME) })
    this.notify()
  }

  /** The next answer frame to send; landed want-haves fill the room the others leave. */
  nextAnswer (): Uint8ArrayList | undefined {
    if (this.ready.size > 0 && !this.answersFull) {
      const cids: CID[] = []
      for (const [key, v0] of this.ready) {
        if (cids.length === MAX_CIDS_PER_FRAME) break
        this.ready.delete(key)
        cids.push(this.wire(CID.parse(key), v0))
      }
      this.answers.push({ type: FrameType.HAVE, cids })
    }
    const next = this.answers.shift()
    return next == null ? undefined : lp.encode.single(encodeList(next.type, next.cids))
  }

  /** Forgets everything (the stream closed). */
  clear (): void {
    this.queue = []
    this.queued.clear()
    this.subscriptions.clear()
    this.ready.clear()
    this.hidden.clear()
    this.answers.length = 0
    if (this.revealTimer != null) clearTimeout(this.revealTimer)
    this.revealTimer = undefined
  }
}
