import type { CommandFn } from '../context.js'
export const demo: CommandFn<'demo'> = async () => { throw new Error('not built yet') }
