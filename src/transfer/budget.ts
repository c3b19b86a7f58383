/**
 * A byte budget: acquire before holding bytes in memory, release after. Waiters are served
 * in order; one holder may always take the whole budget, so a block larger than the cap
 * still moves (alone).
 */
export class ByteBudget {
  private used = 0
  private readonly waiters: Array<{ n: number, resolve: () => void, reject: (err: unknown) => void }> = []

  constructor (readonly capacity: number) {}

  get inUse (): number {
    return this.used
  }

  private fits (n: number): boolean {
    return this.used === 0 || this.used + n <= this.capacity
  }

  async acquire (n: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted()
    if (this.waiters.length === 0 && this.fits(n)) {
      this.used += n
      return
    }
    await new Promise<void>((resolve, reject) => {
      const waiter = {
        n,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort)
          resolve()
        },
        reject
      }
      const onAbort = (): void => {
        const i = this.waiters.indexOf(waiter)
        if (i !== -1) this.waiters.splice(i, 1)
        reject(signal?.reason)
        this.drain()
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.waiters.push(waiter)
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
    while (this.waiters.length > 0) {
      const next = this.waiters[0]
      if (next == null || !this.fits(next.n)) return
      this.waiters.shift()
      this.used += next.n
      next.resolve()
    }
  }
}
