import nx from '@nx/eslint-plugin';

/**
 * One lint configuration for the workspace. The module-boundary rule keeps the architecture
 * honest: `type:domain` libraries (the footprint engine, the normalisers) may depend only on other
 * domain libraries, and the banned imports below keep frameworks and I/O out of them.
 */
/** The `type:domain` libraries: pure logic, held to the import and global rules below. */
const DOMAIN_LIBS = [
  'footprint',
  'normalizers',
  'contracts',
  'candle-views',
  'aggregation',
  'resilience',
  'config',
  'observability',
];

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  {
    ignores: [
      '**/dist',
      '**/dist-bench',
      '**/out-tsc',
      '**/vite.config.*.timestamp*',
      '**/vitest.config.*.timestamp*',
      '.data/**',
    ],
  },
  {
    files: ['**/*.ts', '**/*.mts', '**/*.js', '**/*.mjs'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: true,
          allow: [],
          depConstraints: [
            { sourceTag: 'type:domain', onlyDependOnLibsWithTags: ['type:domain'] },
            { sourceTag: 'type:infra', onlyDependOnLibsWithTags: ['type:domain', 'type:infra'] },
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:domain', 'type:infra'] },
            // System tests drive whole services: they may import apps.
            { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:domain', 'type:infra', 'type:app'] },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.ts', '**/*.mts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Benchmarks measure the built package exactly as its consumers import it; tool configs share
    // the workspace's vitest.shared.ts.
    files: ['libs/*/bench/**/*.ts', '**/vitest.config.ts', '**/vitest.*.config.ts'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
  {
    // With noUncheckedIndexedAccess on, `arr[i]!` inside a checked loop bound is the idiom.
    files: ['**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  {
    // Domain code: no frameworks, no network, no files, no process.
    files: DOMAIN_LIBS.map((lib) => `libs/${lib}/src/**/*.ts`),
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@nestjs/*', 'nats', '@nats-io/*', '@clickhouse/*', 'socket.io*', 'ws', 'vue', 'echarts'],
              message: 'domain libraries stay free of frameworks and I/O',
            },
            { group: ['node:*', 'fs', 'net', 'http', 'https', 'child_process'], message: 'domain libraries do no I/O' },
          ],
        },
      ],
      'no-restricted-globals': ['error', 'process', 'fetch', 'setTimeout', 'setInterval'],
    },
  },
  {
    // The readiness probe bounds each check with a timer: the one timer a domain library holds.
    files: ['libs/observability/src/readiness.ts'],
    rules: { 'no-restricted-globals': ['error', 'process', 'fetch'] },
  },
];
