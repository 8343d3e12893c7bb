// Entry of a `kspec prove` worker thread run from the sources: the worker is TypeScript, so
// register tsx (as bin/kspec.js does for the main thread) before loading it.
import { register } from "tsx/esm/api"
register()
await import("./worker.ts")
