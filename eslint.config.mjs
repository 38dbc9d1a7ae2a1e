// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', '.pdm/', 'coverage/', 'schemas/types/', 'console/dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', require: 'readonly', module: 'writable', __dirname: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
      'no-console': 'error',
    },
  },
  {
    // One Kafka adapter: only lib/kafka/ (and tests that act as an outside client) import kafkajs.
    files: ['**/*.ts'],
    ignores: ['lib/kafka/**', 'test/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [
        { name: 'kafkajs', message: 'Kafka calls go through lib/kafka/ (the adapter).' },
        { name: '@confluentinc/kafka-javascript', message: 'Kafka calls go through lib/kafka/ (the adapter).' },
      ] }],
    },
  },
  {
    // Small named pieces: a function that no longer fits a screen is doing more than one thing (issue #19).
    files: ['**/*.ts', '**/*.tsx'],
    ignores: ['**/*.test.ts', '**/*.itest.ts', 'test/**'],
    rules: { 'max-lines-per-function': ['error', { max: 80 }] },
  },
  {
    // The CLI talks to a person; services log through lib/logger.
    files: ['cli/**', 'bin/**', 'test/**', 'scripts/**'],
    rules: { 'no-console': 'off' },
  },
);
