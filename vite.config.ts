import { fileURLToPath } from 'node:url'
import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

// The console: renderer/ built into dist/renderer/ (index.html + hashed files under assets/), served by the gateway at /.
export default defineConfig({
  root: fileURLToPath(new URL('./renderer', import.meta.url)),
  base: '/',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('./dist/renderer', import.meta.url)),
    emptyOutDir: true,
    assetsDir: 'assets',
    // The gzipped sizes Vite prints are the figure to watch: the first screen must stay under 300 KB of gzipped JS.
    reportCompressedSize: true,
  },
  // `npx vite` against a running `cortex serve`.
  server: { proxy: { '/v1': 'http://127.0.0.1:31313', '/admin': 'http://127.0.0.1:31313' } },
})
