// Vite 8 build of the console (run by ../build.rs, never by hand in the build): JSX through
// Vite's own oxc transform for Preact (no Babel), served under /console/, hashed file
// names under assets/ (the function caches those for a year, index.html never).
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/console/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    target: 'es2022',
    assetsDir: 'assets',
    // The function embeds everything the build writes: no source maps, no inlined assets
    // (data: URLs in CSS are allowed by the policy, but there are none to inline).
    sourcemap: false,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
});
