#!/usr/bin/env node
// The kspec command: runs the TypeScript sources through tsx, no build step.
import { register } from "tsx/esm/api"
// A reader that stops early (`kspec replay f | head`) closes the pipe: end quietly, as Unix tools do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (e) => { if (e.code === "EPIPE") process.exit(0); else throw e })
}
register()
const { main } = await import("../src/cli/main.ts")
process.exitCode = await main(process.argv.slice(2))
