// Entry of a `kspec demo` worker thread run from the sources: register tsx, then load the worker.
import { register } from "tsx/esm/api"
register()
await import("./demoWorker.ts")
