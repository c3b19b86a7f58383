/**
 * A block stream to one provider, requester side: frames out through a pushable, frames in
 * decoded and handed to the session; ends once, with the reason.
 */
import * as lp from 'it-length-prefixed'
import { pushable, type Pushable } from 'it-pushable'
import type { CID } from 'multiformats/cid'
import type { Uint8ArrayList } from 'uint8arraylist'
import { MAX_CIDS_PER_FRAME, MAX_FRAME_SIZE } from '../constants.js'
import { decodeFrame, encodeList, type Frame, type ListFrameType } from '../messages.js'
import type { ByteStream } from '../types.js'

/** After a download, how long a provider gets to end its side of the stream before it is reset. */
export const DRAIN_TIMEOUT_MS = 5_000

export interface LinkHandlers {
  onFrame: (frame: Frame) => void
  /** The stream ended: `err` is undefined when the provider closed its side. Not called after abort() or drain(). */
  onEnd: (err?: Error) => void
}

export class ProviderLink {
  private readonly out: Pushable<Uint8ArrayList | Uint8Array> = pushable({ objectMode: true })
  /** abort() or drain() was called: frames are dropped and the end is not reported. */
  private done = false
  private ended = false
  private onDrained?: () => void

  constructor (readonly stream: ByteStream, private readonly handlers: LinkHandlers) {
    stream.sink(this.out).catch((err) => { this.end(err) })
    void this.read()
  }

  get open (): boolean {
    return !this.done && !this.ended
  }

  send (type: ListFrameType, cids: CID[]): void {
    if (!this.open) return
    for (let i = 0; i < cids.length; i += MAX_CIDS_PER_FRAME) {
      this.out.push(lp.encode.single(encodeList(type, cids.slice(i, i + MAX_CIDS_PER_FRAME))))
    }
  }

  /** Tears the stream down (the download gave up, or the provider is dropped). */
  abort (err: Error): void {
    this.done = true
    this.out.end()
    this.stream.abort(err)
  }

  /**
   * Ends our side after a last frame (CANCEL of what is outstanding); the provider answers what
   * it still had and ends its side, which is read and dropped; reset after DRAIN_TIMEOUT_MS.
   */
  drain (last?: { type: ListFrameType, cids: CID[] }): void {
    if (last != null && last.cids.length > 0) this.send(last.type, last.cids)
    this.done = true
    this.out.end()
    if (this.ended) return
    const timer = setTimeout(() => { this.stream.abort(new Error('the provider did not close the stream')) }, DRAIN_TIMEOUT_MS)
    timer.unref?.()
    this.onDrained = () => { clearTimeout(timer) }
  }

  private end (err?: Error): void {
    if (this.ended) return
    this.ended = true
    this.onDrained?.()
    if (this.done) return
    this.done = true
    this.out.end()
    if (err != null) this.stream.abort(err)
    this.handlers.onEnd(err)
  }

  private async read (): Promise<void> {
    try {
      for await (const buf of lp.decode(this.stream.source, { maxDataLength: MAX_FRAME_SIZE })) {
        // after the download: keep reading (and dropping) until the provider ends its side,
        // so what it already sent does not wait forever for flow-control credit
        if (this.done) continue
        this.handlers.onFrame(decodeFrame(buf))
      }
      this.end()
    } catch (err: any) {
      this.end(err instanceof Error ? err : new Error(String(err)))
    }
  }
}
