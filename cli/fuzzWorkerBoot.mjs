// Entry of a `kspec fuzz` worker thread: the worker runs TypeScript, so register tsx (as
// bin/kspec.js does for the main thread) before loading the worker module.
import { register } from "tsx/esm/api"
register()
await import("./fuzzWorker.ts")
