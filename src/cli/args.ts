/**
 * A small typed argument parser. A command declares its flags with the
 * `flag.*` helpers; parse() returns their values typed from the declaration:
 * booleans are `boolean`, single values `T | undefined`, repeatable ones `T[]`.
 *
 * Accepted forms: `--name value`, `--name=value`, `-o value`, `--` (the rest are
 * positionals). Unknown flags, missing values and bad numbers are UsageErrors.
 */
import { UsageError } from './errors.js'

interface BaseFlag {
  description: string
  /** One-letter alias, used as `-x`. */
  short?: string
}
export interface BooleanFlag extends BaseFlag { type: 'boolean' }
export interface StringFlag extends BaseFlag { type: 'string', placeholder: string, multiple?: false }
export interface StringListFlag extends BaseFlag { type: 'string', placeholder: string, multiple: true }
export interface NumberFlag extends BaseFlag { type: 'number', placeholder: string, multiple?: false }

export type FlagSpec = BooleanFlag | StringFlag | StringListFlag | NumberFlag
export type FlagSpecs = Record<string, FlagSpec>

export type FlagValue<S extends FlagSpec> =
  S extends BooleanFlag ? boolean
    : S extends StringListFlag ? string[]
      : S extends NumberFlag ? number | undefined
        : string | undefined

export type FlagValues<F extends FlagSpecs> = { -readonly [K in keyof F]: FlagValue<F[K]> }

export const flag = {
  boolean: (description: string, options: { short?: string } = {}): BooleanFlag => ({ type: 'boolean', description, ...options }),
  string: (placeholder: string, description: string, options: { short?: string } = {}): StringFlag => ({ type: 'string', placeholder, description, ...options }),
  list: (placeholder: string, description: string, options: { short?: string } = {}): StringListFlag => ({ type: 'string', placeholder, description, multiple: true, ...options }),
  number: (placeholder: string, description: string, options: { short?: string } = {}): NumberFlag => ({ type: 'number', placeholder, description, ...options })
}

export interface PositionalSpec {
  name: string
  description: string
  /** Default true. */
  required?: boolean
  /** Takes every remaining argument (must be last). */
  variadic?: boolean
}

export interface Parsed<F extends FlagSpecs> {
  flags: FlagValues<F>
  /** Positionals in order; a variadic last one collects the rest. */
  positionals: string[]
}

/**
 * Parses `argv` (the arguments after the command name) against `flags` and
 * `positionals`. `command` names the command in error messages.
 */
export function parse<F extends FlagSpecs> (argv: readonly string[], flags: F, positionals: readonly PositionalSpec[], command?: string): Parsed<F> {
  const values: Record<string, unknown> = {}
  for (const [name, spec] of Object.entries(flags)) {
    values[name] = spec.type === 'boolean' ? false : spec.multiple === true ? [] : undefined
  }
  const byShort = new Map<string, string>()
  for (const [name, spec] of Object.entries(flags)) if (spec.short != null) byShort.set(spec.short, name)

  const rest: string[] = []
  const prefix = command != null ? `${command}: ` : ''
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--') {
      rest.push(...argv.slice(i + 1))
      break
    }
    if (!arg.startsWith('-') || arg === '-') {
      rest.push(arg)
      continue
    }
    let name: string | undefined
    let inline: string | undefined
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=')
      name = eq === -1 ? arg.slice(2) : arg.slice(2, eq)
      if (eq !== -1) inline = arg.slice(eq + 1)
      if (!Object.hasOwn(flags, name)) throw new UsageError(`${prefix}unknown option --${name}`, command)
    } else {
      const letter = arg.slice(1, 2)
      name = byShort.get(letter)
      if (name == null || (arg.length > 2 && arg[2] !== '=')) throw new UsageError(`${prefix}unknown option ${arg}`, command)
      if (arg.length > 2) inline = arg.slice(3)
    }
    const spec = flags[name]!
    const shown = arg.startsWith('--') ? `--${name}` : `-${spec.short ?? ''}`
    if (spec.type === 'boolean') {
      if (inline != null) throw new UsageError(`${prefix}${shown} takes no value`, command)
      values[name] = true
      continue
    }
    let raw = inline
    if (raw == null) {
      const next = argv[i + 1]
      if (next == null || (next.startsWith('-') && next !== '-' && !/^-\d/.test(next))) {
        throw new UsageError(`${prefix}${shown} needs a value (${spec.placeholder})`, command)
      }
      raw = next
      i++
    }
    if (raw.trim() === '' && spec.type === 'string') throw new UsageError(`${prefix}${shown} needs a non-empty value (${spec.placeholder})`, command)
    let value: string | number = raw
    if (spec.type === 'number') {
      value = Number(raw)
      if (raw.trim() === '' || !Number.isFinite(value)) throw new UsageError(`${prefix}${shown} must be a number, got "${raw}"`, command)
    }
    if (spec.multiple === true) {
      (values[name] as unknown[]).push(value)
    } else {
      values[name] = value
    }
  }

  const out: string[] = []
  let index = 0
  for (const p of positionals) {
    const required = p.required ?? true
    if (p.variadic === true) {
      if (required && index >= rest.length) throw new UsageError(`${prefix}missing ${p.name}`, command)
      out.push(...rest.slice(index))
      index = rest.length
      break
    }
    if (index >= rest.length) {
      if (required) throw new UsageError(`${prefix}missing ${p.name}`, command)
      break
    }
    out.push(rest[index++]!)
  }
  if (index < rest.length) throw new UsageError(`${prefix}unexpected argument "${rest[index]!}"`, command)
  return { flags: values as FlagValues<F>, positionals: out }
}
