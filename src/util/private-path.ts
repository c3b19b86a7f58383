/**
 * The repository holds the node's private key and its control socket, so like
 * ssh with `~/.ssh` a node refuses a repository folder, or a secret file in it,
 * that another local user owns or can write: such a user could plant their own
 * identity key (and so hold this node's private key) or swap the control socket.
 */
import type { Stats } from 'node:fs'

/** Why `info` is not private to the current user, or undefined when it is (always undefined where uids do not exist). */
export function notPrivateReason (info: Stats, options: { secret?: boolean } = {}): string | undefined {
  const uid = process.getuid?.()
  if (uid == null) return undefined
  if (info.uid !== uid) return `it is owned by uid ${info.uid}, not by this user (uid ${uid})`
  // group-writable is fine when the group is the user's own (user-private groups, umask 002)
  const writableBy = info.mode & (info.gid === process.getgid?.() ? 0o002 : 0o022)
  if (writableBy !== 0) return `other users can write to it (mode ${(info.mode & 0o777).toString(8).padStart(4, '0')}); run chmod go-w on it`
  if (options.secret === true && (info.mode & 0o077) !== 0) return `other users can read it (mode ${(info.mode & 0o777).toString(8).padStart(4, '0')}); run chmod 600 on it`
  return undefined
}
