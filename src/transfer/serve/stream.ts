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
import { MAX_CID_BYTES, MAX_CIDS_PER_FRAME, MAX_CONTROL_FRAMES_PER_STREAM, MAX_LIST_FRAME_SIZE } from '../constants.js'
import { FrameType, wireCid, type ListFrameType } from '../messages.js'
import type { ByteStream } from '../types.js'

/**
 * An answer list being built, kept encoded (type byte, then each CID after its 1-byte length):
 * a peer that does not read holds at most MAX_CONTROL_FRAMES_PER_STREAM of these, ~38 KB
 * each, not thousands of CID objects.
 */
class AnswerFrame {
  count = 0
  private length = 1
  private buf: Uint8Array

  constructor (readonly type: ListFrameType) {
    this.buf = new Uint8Array(64 * (1 + MAX_CID_BYTES))
    this.buf[0] = type
  }

  add (cid: CID): void {
    const bytes = cid.bytes
    if (this.length + 1 + bytes.byteLength > this.buf.byteLength) {
      const grown = new Uint8Array(Math.min(this.buf.byteLength * 4, MAX_LIST_FRAME_SIZE))
      grown.set(this.buf.subarray(0, this.length))
      this.buf = grown
    }
    this.buf[this.length++] = bytes.byteLength // < 128: one varint byte
    this.buf.set(bytes, this.length)
    this.length += bytes.byteLength
    this.count++
  }

  encode (): Uint8ArrayList {
    return lp.encode.single(this.buf.subarray(0, this.length))
  }
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
  /** The first CID the peer asked about on this stream: a download asks for its root first. */
  firstWanted?: string
  /** Block bytes and blocks sent on this stream (for the node's "who fetched what" log). */
  bytesSent = 0
  blocksSent = 0
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
    let last = this.answers[this.answers.length - 1]
    for (const cid of cids) {
      if (last?.type !== type || last.count === MAX_CIDS_PER_FRAME) {
        last = new AnswerFrame(type)
        this.answers.push(last)
      }
      last.add(cid)
    }
    this.notify()
  }

  /** The next answer frame to send; landed want-haves fill the room the others leave. */
  nextAnswer (): Uint8ArrayList | undefined {
    if (this.ready.size > 0 && !this.answersFull) {
      const frame = new AnswerFrame(FrameType.HAVE)
      for (const [key, v0] of this.ready) {
        if (frame.count === MAX_CIDS_PER_FRAME) break
        this.ready.delete(key)
        frame.add(this.wire(CID.parse(key), v0))
      }
      this.answers.push(frame)
    }
    return this.answers.shift()?.encode()
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
