import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';

/**
 * The dashboard's build (served by the gateway from dist/, GATEWAY_STATIC_DIR) and its dev server.
 * Workspace libraries resolve to their TypeScript sources (the "@orderflow/source" condition), so
 * the pure footprint engine is bundled as it is written. In dev, /api and /socket.io go to a gateway
 * at DASHBOARD_GATEWAY_URL (default http://127.0.0.1:8080).
 */
const gateway = process.env['DASHBOARD_GATEWAY_URL'] ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [vue()],
  base: './',
  resolve: { conditions: ['@orderflow/source', 'module', 'browser', 'development|production'] },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 1200 },
  server: {
    host: '127.0.0.1',
    proxy: {
      '/api': gateway,
      '/socket.io': { target: gateway, ws: true },
    },
  },
});
