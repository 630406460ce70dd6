import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Resolve workspace packages to their TypeScript sources (the "@orderflow/source" export condition).
  resolve: { conditions: ['@orderflow/source'] },
  ssr: { resolve: { conditions: ['@orderflow/source'] } },
  test: {
    include: ['src/**/*.spec.ts'],
    environment: 'node',
  },
});
