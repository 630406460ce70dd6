import pluginVue from 'eslint-plugin-vue';
import tseslint from 'typescript-eslint';
import root from '../../eslint.config.mjs';

/** The workspace's rules, plus Vue single-file components (parsed with the TypeScript parser). */
export default [
  ...root,
  ...pluginVue.configs['flat/recommended'],
  {
    // this file extends the workspace's configuration by importing it
    files: ['eslint.config.mjs'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
  {
    files: ['**/*.vue'],
    plugins: { '@typescript-eslint': tseslint.plugin },
    languageOptions: {
      parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.vue'], sourceType: 'module' },
    },
    rules: {
      // formatting is prettier's business
      'vue/max-attributes-per-line': 'off',
      'vue/singleline-html-element-content-newline': 'off',
      'vue/html-self-closing': 'off',
      'vue/html-indent': 'off',
      'vue/html-closing-bracket-newline': 'off',
      'vue/multiline-html-element-content-newline': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
];
