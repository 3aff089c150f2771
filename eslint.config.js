// @ts-check
import tseslint from 'typescript-eslint';

const ioModules = [
  'node:*', 'fs', 'fs/*', 'path', 'crypto', 'os', 'child_process', 'http', 'https', 'net', 'dns', 'stream', 'url', 'util',
  'pg', 'sharp', 'grammy', 'grammy/*', 'fastify', 'fastify/*', '@fastify/*', 'undici', 'pino', '@prisma/*',
  '@temporalio/worker', '@temporalio/client', '@temporalio/activity', '@temporalio/testing',
];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'tools/', 'src/generated/', 'coverage/'] },
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The production code never depends on the sandbox (simulators, dev stack): the image holds none of it.
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/sandbox/**'], message: 'src/ must not import the sandbox: it is not in the production image.' }] }],
    },
  },
  {
    // Workflow code is replayed: it must stay deterministic and free of I/O.
    files: ['src/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ioModules, message: 'Workflows must not do I/O: move it into an activity.' },
            {
              group: ['**/activities/*', '**/activities', '**/db/*', '**/gateway/*', '**/bot/*', '**/integrations/**', '**/simulators/**', '**/sandbox/**'],
              allowTypeImports: true,
              message: 'Workflows may only import types from these modules.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'Use sleep() from @temporalio/workflow.' },
        { name: 'setInterval', message: 'Use sleep() in a loop.' },
        { name: 'process', message: 'Workflows get configuration through their input.' },
        { name: 'fetch', message: 'Workflows must not do I/O.' },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
