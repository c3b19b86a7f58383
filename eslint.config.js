import neostandard from 'neostandard'

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
  }
]
