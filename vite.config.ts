import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

/**
 * Content-Security-Policy: the app loads nothing from other origins and evaluates
 * no strings. 'wasm-unsafe-eval' lets the wasm backend compile its binaries (no JavaScript eval);
 * workers come from our origin, and the wasm backend's pthread workers from blob: URLs; KaTeX sets
 * inline styles; one small KaTeX font is inlined by the build as a data: URL; images (canvases'
 * snapshots, the favicon) are data: or blob:. The same policy is the <meta> tag of index.html (for
 * any static host) and a header of the dev and preview servers (headers also cover the workers,
 * which a <meta> tag of the page does not).
 */
export const CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self' blob:",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
].join('; ');

/** The dev server only: React Refresh's preamble is an inline script (the build has none). */
const DEV_CSP = CSP.replace("script-src 'self' 'wasm-unsafe-eval'", "script-src 'self' 'wasm-unsafe-eval' 'unsafe-inline'");

// Cross-origin isolation (COOP/COEP) lets the wasm backend use threads in the browser.
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/** index.html carries the production policy; the dev server serves it with the dev one. */
function devCspMeta(): Plugin {
  return {
    name: 'dev-csp-meta',
    apply: 'serve',
    transformIndexHtml: (html) => html.replace(CSP, DEV_CSP),
  };
}

/** The build's index.html must carry exactly the policy above (the two are kept in step by hand). */
function checkCspMeta(): Plugin {
  return {
    name: 'check-csp-meta',
    apply: 'build',
    transformIndexHtml: (html) => {
      if (!html.includes(`content="${CSP}"`)) throw new Error('index.html: the Content-Security-Policy <meta> tag differs from CSP in vite.config.ts.');
      return html;
    },
  };
}

export default defineConfig({
  plugins: [react(), devCspMeta(), checkCspMeta()],
  server: { headers: { ...isolationHeaders, 'Content-Security-Policy': DEV_CSP }, port: 5173, strictPort: false },
  preview: { headers: { ...isolationHeaders, 'Content-Security-Policy': CSP }, port: 4173 },
  worker: { format: 'es' },
  build: { target: 'es2022', chunkSizeWarningLimit: 4000 },
  // tfjs-backend-wasm is pre-bundled like every dependency: excluded, its CommonJS wasm-out/*.worker.js
  // was served as is and the engine worker failed to start under `npm run dev` ("does not provide an
  // export named 'wasmWorkerContents'").
});
