/**
 * A byte budget: acquire before holding bytes in memory, release after. One holder may always
 * take the whole budget, so a block larger than the cap still moves (alone).
 *
 * Waiters are served in turn by owner (a peer), in order within an owner: a peer with many
 * streams waiting gets one turn like a peer with one, so it cannot push the others to the
 * back of the line.
 */
interface Waiter {
  n: number
  resolve: () => void
}

export class ByteBudget {
  private used = 0
  /** Waiting owners in turn order, each with its waiters in order. */
  private readonly waiting = new Map<string, Waiter[]>()

  constructor (readonly capacity: number) {}

  get inUse (): number {
    return this.used
  }

  /** Waiters now, over all owners. */
  get waiters (): number {
    let n = 0
    for (const q of this.waiting.values()) n += q.length
    return n
  }

  private fits (n: number): boolean {
    return this.used === 0 || this.used + n <= this.capacity
  }

  async acquire (n: number, signal?: AbortSignal, owner = ''): Promise<void> {
    signal?.throwIfAborted()
    if (this.waiting.size === 0 && this.fits(n)) {
      this.used += n
      return
    }
    await new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        n,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort)
          resolve()
        }
      }
      const onAbort = (): void => {
        const q = this.waiting.get(owner)
        const i = q?.indexOf(waiter) ?? -1
        if (q != null && i !== -1) {
          q.splice(i, 1)
          if (q.length === 0) this.waiting.delete(owner)
        }
        reject(signal?.reason)
        this.drain()
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      let q = this.waiting.get(owner)
      if (q == null) {
        q = []
        this.waiting.set(owner, q)
      }
      q.push(waiter)
    })
  }

  /** Changes a held amount without waiting (a block turned out bigger or smaller than reserved). */
  adjust (delta: number): void {
    this.used += delta
    if (delta < 0) this.drain()
  }

  release (n: number): void {
    this.used -= n
    this.drain()
  }

  private drain (): void {
    for (;;) {
      const first = this.waiting.entries().next()
      if (first.done === true) return
      const [owner, q] = first.value
      const next = q[0]
      if (next == null || !this.fits(next.n)) return
      q.shift()
      // the owner served goes to the back of the line
      this.waiting.delete(owner)
      if (q.length > 0) this.waiting.set(owner, q)
      this.used += next.n
      next.resolve()
    }
  }
}
