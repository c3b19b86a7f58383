/**
 * A shared/exclusive lock inside one process. Block writers (import,
 * putBlock) hold it shared; sweeps that delete blocks (gc, remove, fsck)
 * hold it exclusive, so a block is never deleted between a writer seeing it
 * present and the writer's record naming it. Writers queue behind a waiting
 * sweep, so sweeps are not starved.
 */
export class SharedLock {
  private shared = 0
  private exclusive = false
  private readonly queue: Array<{ exclusive: boolean, wake: () => void }> = []

  async withShared<T> (fn: () => Promise<T>): Promise<T> {
    await this.acquire(false)
    try {
      return await fn()
    } finally {
      this.release(false)
    }
  }

  async withExclusive<T> (fn: () => Promise<T>): Promise<T> {
    await this.acquire(true)
    try {
      return await fn()
    } finally {
      this.release(true)
    }
  }

  private canTake (exclusive: boolean): boolean {
    if (this.exclusive) return false
    return exclusive ? this.shared === 0 : this.queue.length === 0
  }

  private async acquire (exclusive: boolean): Promise<void> {
    if (this.canTake(exclusive)) {
      this.take(exclusive)
      return
    }
    await new Promise<void>(resolve => { this.queue.push({ exclusive, wake: resolve }) })
  }

  private take (exclusive: boolean): void {
    if (exclusive) this.exclusive = true
    else this.shared++
  }

  private release (exclusive: boolean): void {
    if (exclusive) this.exclusive = false
    else this.shared--
    // wake the head of the queue: one exclusive, or every shared up to the next exclusive
    while (this.queue.length > 0) {
      const head = this.queue[0]!
      if (head.exclusive ? (this.exclusive || this.shared > 0) : this.exclusive) break
      this.queue.shift()
      this.take(head.exclusive)
      head.wake()
      if (head.exclusive) break
    }
  }
}

/** Runs tasks for the same key one after another (record updates of one CID). */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>()

  async run<T> (key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve()
    const next = prev.then(fn, fn)
    const tail = next.catch(() => {})
    this.tails.set(key, tail)
    try {
      return await next
    } finally {
      if (this.tails.get(key) === tail) this.tails.delete(key)
    }
  }
}
