import { resolve } from "node:path";
import { defineConfig } from "vite";

// One page for now: room.html, served by the Starlette server at /s/{session_id};
// its scripts and styles land in dist/assets (mounted at /assets).
export default defineConfig({
  base: "/",
  build: {
    outDir: "dist",
    assetsDir: "assets",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    // One page, one bundle: CodeMirror, Yjs and DOMPurify are ~610 kB minified (~200 kB gzip).
    chunkSizeWarningLimit: 800,
    rollupOptions: {
      input: { room: resolve(import.meta.dirname, "room.html") },
    },
  },
});
