export class DecryptionError extends Error {
  static override name = 'DecryptionError'

  constructor (reason: string) {
    super(`the file does not decrypt with this key (${reason}): it was tampered with, truncated, or the link's key is wrong. Nothing was written`)
    this.name = 'DecryptionError'
  }
}

export class NotEncryptedError extends Error {
  static override name = 'NotEncryptedError'

  constructor () {
    super('the file is not a swarmdrop encrypted file; fetch it by its bare CID instead of a link')
    this.name = 'NotEncryptedError'
  }
}

export class InvalidLinkError extends Error {
  static override name = 'InvalidLinkError'
  readonly value: string

  constructor (value: string, reason: string) {
    super(`"${value.length > 80 ? value.slice(0, 80) + '…' : value}" is not a valid swarmdrop link (${reason}); expected swarmdrop:<cid>#<key>`)
    this.name = 'InvalidLinkError'
    this.value = value
  }
}
