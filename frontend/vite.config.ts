import { resolve } from "node:path";
import { defineConfig } from "vite";

// Four pages, served by the Starlette server (server/web.py): room.html at /s/{session_id},
// home.html (staff) at /, replay.html at /replay/{session_id}, team.html (members, personal
// tokens, audit log) at /team; their scripts and styles land in
// dist/assets (mounted at /assets), shared code in shared chunks.
export default defineConfig({
  base: "/",
  build: {
    outDir: "dist",
    assetsDir: "assets",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    // The room's bundle: CodeMirror, Yjs and DOMPurify are ~610 kB minified (~200 kB gzip).
    chunkSizeWarningLimit: 800,
    rollupOptions: {
      input: {
        room: resolve(import.meta.dirname, "room.html"),
        home: resolve(import.meta.dirname, "home.html"),
        replay: resolve(import.meta.dirname, "replay.html"),
        team: resolve(import.meta.dirname, "team.html"),
      },
    },
  },
});
