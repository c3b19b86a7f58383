import neostandard from 'neostandard'

/**
 * The layers of src/, lowest first. A folder may import its own files and the
 * folders of the layers below it, never a folder of its own layer or above
 * (docs/ARCHITECTURE.md draws them). `src/version.ts` counts as util.
 */
const LAYERS = [
  ['util'],
  ['net', 'content'],
  ['storage', 'pubsub', 'transfer', 'crypto'],
  ['node'],
  ['control'],
  ['web'],
  ['cli', 'testing']
]

function layerRules () {
  const all = LAYERS.flat()
  return LAYERS.flatMap((layer, i) => {
    const below = new Set(LAYERS.slice(0, i).flat())
    return layer.map(folder => {
      const forbidden = all.filter(f => f !== folder && !below.has(f))
      const allowed = ['util', ...below].filter((f, j, a) => a.indexOf(f) === j && f !== folder)
      const libp2p = folder === 'net'
        ? []
        : [{
            regex: '^(libp2p|@libp2p/(?!logger$).*|@chainsafe/libp2p-.*)$',
            message: 'every libp2p import lives in src/net (docs/ARCHITECTURE.md)'
          }]
      return {
        files: [`src/${folder}/**/*.ts`],
        rules: {
          'no-restricted-imports': ['error', {
            patterns: [{
              regex: `^(\\.\\./)+(${forbidden.join('|')})(/|\\.js$|$)`,
              message: `src/${folder} may import only from ${allowed.join(', ')}: dependencies point down the layers (docs/ARCHITECTURE.md)`
            }, ...libp2p]
          }]
        }
      }
    })
  })
}

export default [
  ...neostandard({ ts: true, ignores: ['dist/**', 'node_modules/**', 'bench/helia/**'] }),
  {
    rules: {
      // `void promise` marks a deliberately floating promise whose errors are handled inside
      'no-void': ['error', { allowAsStatement: true }]
    }
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/cli/**'],
    rules: {
      'no-console': 'error'
    }
  },
  ...layerRules()
]
