import type { CommandFn } from '../context.js'
export const get: CommandFn<'get'> = async () => { throw new Error('not built yet') }
