/** Help and usage text, built from the command specs in spec.ts. */
import { formatTable } from './format.js'
import { COMMANDS, GLOBAL_FLAGS, type CommandName } from './spec.js'
import type { FlagSpec } from './args.js'

const GROUPS: Array<[string, CommandName[]]> = [
  ['Run a node', ['start', 'stop', 'status', 'id', 'peers']],
  ['Files', ['share', 'ls', 'get', 'pin', 'unpin', 'rm', 'gc']],
  ['Messages', ['pub', 'sub']],
  ['Other', ['demo', 'key', 'help']]
]

export function usageLine (name: CommandName): string {
  const usage = COMMANDS[name].usage
  return `usage: swarmdrop ${name}${usage !== '' ? ' ' + usage : ''} [--repo DIR] [--json]`
}

function flagLeft (name: string, spec: FlagSpec): string {
  const short = spec.short != null ? `-${spec.short}, ` : '    '
  const value = spec.type === 'boolean' ? '' : ` ${spec.placeholder}`
  return `  ${short}--${name}${value}`
}

export function commandHelp (name: CommandName): string {
  const spec = COMMANDS[name]
  const lines = [usageLine(name), '', spec.summary.charAt(0).toUpperCase() + spec.summary.slice(1) + '.']
  if (spec.description != null) lines.push('', spec.description)
  if (spec.positionals.length > 0) {
    lines.push('', 'Arguments:')
    lines.push(...formatTable(spec.positionals.map(p => [`  ${p.name}`, p.description])))
  }
  lines.push('', 'Options:')
  lines.push(...formatTable(Object.entries(spec.flags).map(([n, f]) => [flagLeft(n, f), f.description])))
  if (spec.needsNode) lines.push('', 'Needs a running node on the repository (`swarmdrop start`).')
  lines.push('', spec.examples.length > 1 ? 'Examples:' : 'Example:', ...spec.examples.map(e => `  ${e}`), '')
  return lines.join('\n')
}

export function generalHelp (version: string): string {
  const lines = [
    `swarmdrop ${version}: share files with the peers on your network, no server needed.`,
    '',
    'usage: swarmdrop <command> [options]',
    ''
  ]
  for (const [title, names] of GROUPS) {
    lines.push(`${title}:`)
    lines.push(...formatTable(names.map(n => [`  ${n}`, COMMANDS[n].summary])))
    lines.push('')
  }
  lines.push('Options for every command:')
  lines.push(...formatTable([
    ...Object.entries(GLOBAL_FLAGS).map(([n, f]) => [flagLeft(n, f), f.description]),
    [flagLeft('version', { type: 'boolean', description: '', short: 'V' }), 'print the version']
  ]))
  lines.push('',
    'Environment: SWARMDROP_REPO (default repository), DEBUG=swarmdrop:* (logs), NO_COLOR.',
    '',
    'Try it on one machine:  swarmdrop demo',
    'On two laptops:         swarmdrop start   (on each), then swarmdrop share FILE / swarmdrop ls / swarmdrop get CID',
    'More: swarmdrop <command> --help, and docs/CLI.md.',
    '')
  return lines.join('\n')
}
