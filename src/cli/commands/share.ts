import type { CommandFn } from '../context.js'
export const share: CommandFn<'share'> = async () => { throw new Error('not built yet') }
