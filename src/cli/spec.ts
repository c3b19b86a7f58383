/**
 * Every command's flags, positionals and help text. Data only: loading this
 * module must stay cheap (the `--help` path imports nothing heavier).
 */
import { flag, type FlagSpecs, type PositionalSpec } from './args.js'

export const GLOBAL_FLAGS = {
  repo: flag.string('DIR', 'repository of the node (default $SWARMDROP_REPO or ~/.swarmdrop)'),
  json: flag.boolean('print JSON for scripts (field names in docs/CLI.md)'),
  help: flag.boolean('show this help', { short: 'h' })
}

/** Options of a node started by this process (`start`, and `get` when no node runs). */
const NODE_FLAGS = {
  name: flag.string('NICK', 'nickname shown to other peers (default: this host\'s name)'),
  swarm: flag.string('NAME', 'swarm to join; nodes only see files of their own swarm (default "default")'),
  listen: flag.list('MULTIADDR', 'address to listen on, repeatable (default /ip4/0.0.0.0/tcp/0)'),
  peer: flag.list('MULTIADDR', 'peer to dial at start and redial when lost, repeatable'),
  'no-mdns': flag.boolean('do not discover peers on the LAN with mDNS'),
  'swarm-key': flag.string('FILE', 'private swarm: only nodes with this pre-shared key connect (make one with `swarmdrop key gen`)'),
  relay: flag.list('MULTIADDR', 'relay to reserve a slot on and be reachable through when behind NAT (/ip4/…/tcp/…/p2p/ID), repeatable (docs/WAN.md)'),
  announce: flag.list('MULTIADDR', 'address to advertise besides the listen addresses (a forwarded port, a public IP), repeatable')
}

export interface CommandSpec {
  summary: string
  /** Text after `swarmdrop <name>` in the usage line. */
  usage: string
  description?: string
  flags: FlagSpecs
  positionals: PositionalSpec[]
  examples: string[]
  /** Needs a running node (reached over the control socket). */
  needsNode: boolean
}

function command<F extends FlagSpecs> (spec: Omit<CommandSpec, 'flags'> & { flags: F }): Omit<CommandSpec, 'flags'> & { flags: F & typeof GLOBAL_FLAGS } {
  return { ...spec, flags: { ...spec.flags, ...GLOBAL_FLAGS } }
}

const cid: PositionalSpec = { name: 'CID', description: 'content identifier of the file' }

export const COMMANDS = {
  start: command({
    summary: 'run a node in the foreground until Ctrl-C',
    usage: '[--name NICK] [--swarm NAME] [--listen MULTIADDR]... [--peer MULTIADDR]... [--no-mdns] [--swarm-key FILE] [--replicate [--max-store SIZE]] [--relay MULTIADDR]... [--relay-service] [--web PORT | --no-web] [--gateway-listen HOST:PORT]',
    description: 'Prints the peer id, nickname and addresses, then one line per event (peer joined or left, file announced,\ntransfer progress). Other commands reach it over the control socket in the repository.',
    flags: {
      ...NODE_FLAGS,
      replicate: flag.boolean('fetch and pin every file announced in the swarm'),
      'max-store': flag.string('SIZE', 'with --replicate: most the store may hold (500M, 20G, ...); a file that would take it over is not replicated'),
      web: flag.number('PORT', 'serve the web page and IPFS gateway on 127.0.0.1:PORT (default 5990, or the next free port; docs/WEB.md)'),
      'no-web': flag.boolean('do not serve the web page and gateway'),
      'gateway-listen': flag.string('HOST:PORT', 'also serve the read-only IPFS gateway alone on this address, beyond loopback: anyone reaching it reads every file of the swarm (docs/WEB.md)'),
      'relay-service': flag.boolean('also serve as a circuit relay for peers behind NAT (run on a reachable machine; docs/WAN.md)'),
      'relay-max-bytes': flag.number('MiB', 'relay service: most data per relayed connection, both ways (default 64)'),
      'relay-max-seconds': flag.number('S', 'relay service: longest life of a relayed connection (default 600)'),
      'relay-max-reservations': flag.number('N', 'relay service: most peers holding a slot at once (default 64)')
    },
    positionals: [],
    examples: ['swarmdrop start --name alice', 'swarmdrop start --repo /tmp/b --no-mdns --listen /ip4/127.0.0.1/tcp/4001 --peer /ip4/127.0.0.1/tcp/4002/p2p/12D3Koo...'],
    needsNode: false
  }),
  share: command({
    summary: 'import files into the running node, pin and announce them',
    usage: 'PATH... [--copy] [--encrypt]',
    description: 'Prints each file\'s CID, name and size. The file is kept by reference: the store records where it is and\nkeeps only the DAG\'s inner nodes (no second copy); its bytes are read from it and checked on every read, and a\nfile changed after sharing is no longer served (`ls` flags it; share it again). --copy copies it into the store\n(for a file you will delete or change). Shared files are pinned. With --encrypt, each file is encrypted with a fresh random key\nbefore import: the swarm stores and replicates only ciphertext under a placeholder name, and the command\nprints a link swarmdrop:<cid>#<key>; only holders of the link can read the file (`swarmdrop get LINK`).',
    flags: {
      encrypt: flag.boolean('encrypt each file with a fresh key; print its capability link (always copied)'),
      copy: flag.boolean('copy the bytes into the store (default: keep a reference to the file, no second copy)')
    },
    positionals: [{ name: 'PATH', description: 'file to share', variadic: true }],
    examples: ['swarmdrop share ./holiday.mp4 ./notes.pdf', 'swarmdrop share --encrypt ./tax-return.pdf'],
    needsNode: true
  }),
  ls: command({
    summary: 'list the swarm\'s catalog and this store\'s files: CID, name, size, providers, local',
    usage: '[CID] [--providers]',
    description: 'PROVIDERS counts the peers connected now that hold the whole file (this node included); peers holding\npart of it (downloading) are shown apart, as "+N partial". A file announced under other names says so\nbelow its row. `ls CID` shows one file and who provides it, by name; --providers does so for every file.\nLOCAL says yes (here: copied, or read from the shared or fetched file), no, or CHANGED / GONE (the file it is\nread from changed or vanished: not served; share it again). With no node running, lists the store\'s files\nonly (taking the repository\'s lock).',
    flags: { providers: flag.boolean('list each file\'s providers by name (connected or not, whole or partial)') },
    positionals: [{ name: 'CID', description: 'show this file and its providers', required: false }],
    examples: ['swarmdrop ls', 'swarmdrop ls --json', 'swarmdrop ls bafy...', 'swarmdrop ls --providers'],
    needsNode: false
  }),
  get: command({
    summary: 'fetch a file from the swarm and write it',
    usage: 'CID|LINK|NAME...|- [--link-file FILE] [-o PATH|-] [--force] [--copy] [--timeout SECONDS]',
    description: 'Asks the running node when there is one; otherwise, when the file is complete in the repository\'s store,\nwrites it from there at once (no network node); otherwise starts a temporary node on the repository with the\nnode options below, finds peers (mDNS or --peer), fetches, writes the file and stops. The file is written\nunder a temporary name and renamed when complete. Default output: the announced name, made safe, in the\ncurrent folder. A link fetches an encrypted share and decrypts it (the name comes from inside the\nencrypted file); a tampered file or a wrong key writes nothing. A link on the command line can be read by\nevery local user (/proc/PID/cmdline, ps): pass it on stdin (-) or with --link-file instead. The written file\nis the copy: the store keeps a reference to it (checked on every read) instead of a second copy, unless\n--copy. Fetched files are pinned.',
    flags: {
      output: flag.string('PATH', 'where to write the file (a folder: the announced name inside it; -: stdout)', { short: 'o' }),
      timeout: flag.number('SECONDS', 'give up when no provider is found in this time (default 30)'),
      force: flag.boolean('replace the output file if it exists (default: fail before fetching anything)'),
      copy: flag.boolean('also keep a copy in the store (default: the store keeps a reference to the written file)'),
      'link-file': flag.string('FILE', 'read CIDs or links from FILE, one per line (keeps a link\'s key out of the process list)'),
      ...NODE_FLAGS
    },
    positionals: [{ name: 'CID|LINK|NAME', description: 'content identifier, the link swarmdrop:<cid>#<key> of an encrypted share, or the exact name of one file of the catalog; several fetch one after the other; - reads them from stdin, one per line', variadic: true, required: false }],
    examples: ['swarmdrop get bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi', 'swarmdrop get bafy... -o ~/Downloads/', 'swarmdrop get --link-file plans.link', 'swarmdrop get - < plans.link'],
    needsNode: false
  }),
  peers: command({
    summary: 'list the peers met since start',
    usage: '',
    flags: {},
    positionals: [],
    examples: ['swarmdrop peers --json'],
    needsNode: true
  }),
  status: command({
    summary: 'show peer id, swarm, addresses, peers, files, store size and what gc would free',
    usage: '',
    description: 'With no node running, shows the store only (taking the repository\'s lock): its files, size, files kept\nby reference, and what `gc` would free.',
    flags: {},
    positionals: [],
    examples: ['swarmdrop status'],
    needsNode: false
  }),
  id: command({
    summary: 'show the running node\'s peer id, nickname and addresses',
    usage: '',
    flags: {},
    positionals: [],
    examples: ['swarmdrop id --json'],
    needsNode: true
  }),
  pin: command({
    summary: 'keep a file in the store (fetching it first if needed); `pin ls` lists pinned files',
    usage: 'CID | ls',
    description: 'Files are pinned by share and get already. Pinning a file complete here, and `pin ls`, work without a running node too: then on the repository\'s store directly (taking its lock).',
    flags: {},
    positionals: [cid],
    examples: ['swarmdrop pin bafy...', 'swarmdrop pin ls'],
    needsNode: false
  }),
  unpin: command({
    summary: 'let gc remove a file',
    usage: 'CID',
    description: 'Works without a running node too: then on the repository\'s store directly (taking its lock).',
    flags: {},
    positionals: [cid],
    examples: ['swarmdrop unpin bafy...'],
    needsNode: false
  }),
  rm: command({
    summary: 'withdraw a file from the swarm and remove its record and blocks from the store',
    usage: 'CID',
    description: 'A file kept by reference is only forgotten: the file itself is never touched. Works without a running node too: then on the repository\'s store directly (taking its lock).',
    flags: {},
    positionals: [cid],
    examples: ['swarmdrop rm bafy...'],
    needsNode: false
  }),
  gc: command({
    summary: 'drop unpinned files and delete every block no pinned file needs',
    usage: '',
    description: 'Prints the blocks and bytes freed (`status` says how much beforehand). Works without a running node too: then on the repository\'s store directly (taking its lock).',
    flags: {},
    positionals: [],
    examples: ['swarmdrop gc'],
    needsNode: false
  }),
  pub: command({
    summary: 'publish a message on a topic',
    usage: '[--global] TOPIC MESSAGE',
    description: 'The topic is the swarm\'s own (sent as /swarmdrop-topic/1/<swarm>/TOPIC): only nodes of this swarm\nreceive it. --global uses TOPIC as named, shared with every swarm on the network.',
    flags: { global: flag.boolean('a topic shared with every swarm, not only this node\'s') },
    positionals: [{ name: 'TOPIC', description: 'topic name (not starting with /swarmdrop/)' }, { name: 'MESSAGE', description: 'text to send' }],
    examples: ['swarmdrop pub chat "lunch at noon?"'],
    needsNode: true
  }),
  sub: command({
    summary: 'print each message on a topic with its sender until Ctrl-C',
    usage: '[--global] TOPIC',
    description: 'Hears the swarm\'s own TOPIC (messages of this swarm only); --global the topic as named, from every swarm.',
    flags: { global: flag.boolean('a topic shared with every swarm, not only this node\'s') },
    positionals: [{ name: 'TOPIC', description: 'topic name' }],
    examples: ['swarmdrop sub chat', 'swarmdrop sub chat --json'],
    needsNode: true
  }),
  open: command({
    summary: 'print the running node\'s web page URL (with its token); --launch opens it in a browser',
    usage: '[--launch]',
    flags: { launch: flag.boolean('open the URL with the desktop\'s browser (xdg-open or open)') },
    positionals: [],
    examples: ['swarmdrop open', 'swarmdrop open --launch'],
    needsNode: false
  }),
  stop: command({
    summary: 'stop the running node',
    usage: '',
    flags: {},
    positionals: [],
    examples: ['swarmdrop stop'],
    needsNode: true
  }),
  demo: command({
    summary: 'a local swarm on this machine: share and fetch a file, print timings',
    usage: '[--nodes N] [--size MiB]',
    description: 'Starts N nodes on 127.0.0.1 with temporary repositories (the nodes dial each other, no mDNS: safe anywhere), shares a\ngenerated file from the first, fetches it on the others, prints a table and cleans up.',
    flags: {
      nodes: flag.number('N', 'how many nodes (default 3, 2 to 16)'),
      size: flag.number('MiB', 'size of the generated file (default 16)')
    },
    positionals: [],
    examples: ['swarmdrop demo', 'swarmdrop demo --nodes 5 --size 64'],
    needsNode: false
  }),
  key: command({
    summary: 'make a swarm key for a private swarm',
    usage: 'gen [-o FILE]',
    description: 'Writes a new random pre-shared key in the kubo format (owner-only file). Give the same file to every\nnode of the swarm with --swarm-key.',
    flags: { output: flag.string('FILE', 'file to write (default: print the key)', { short: 'o' }) },
    positionals: [{ name: 'ACTION', description: 'gen' }],
    examples: ['swarmdrop key gen -o swarm.key'],
    needsNode: false
  }),
  help: command({
    summary: 'show help for a command',
    usage: '[COMMAND]',
    flags: {},
    positionals: [{ name: 'COMMAND', description: 'command name', required: false }],
    examples: ['swarmdrop help get'],
    needsNode: false
  })
}

export type CommandName = keyof typeof COMMANDS
export type Flags<K extends CommandName> = (typeof COMMANDS)[K]['flags']

export function isCommand (name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name)
}
