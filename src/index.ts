import './polyfill.js'

export * from './node/index.js'
export * from './pubsub/index.js'
export * from './storage/index.js'
export { VERSION } from './version.js'
export * from './transfer/index.js'
export { encrypt, openEncrypted, generateContentKey, formatLink, parseLink, isLink, DecryptionError, NotEncryptedError, InvalidLinkError, type EncryptedMeta } from './crypto/index.js'
