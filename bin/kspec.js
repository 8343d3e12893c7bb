#!/usr/bin/env node
// The kspec command. It bundles the TypeScript sources with esbuild (about 0.1 s) into a cache
// directory named by the bundle's content, so a bundle is never stale, and runs it: faster than
// tsx compiling file by file in every thread, and without the name-keeping wrapper tsx puts on
// every closure. tsx stays registered for what is imported at run time (mutant builds), and is
// the fallback when the bundle cannot be built; KSPEC_TSX=1 runs the sources through tsx.
import { createHash } from "node:crypto"
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs"
import { dirname, join, relative } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { register } from "tsx/esm/api"

// A reader that stops early (`kspec replay f | head`) closes the pipe: end quietly, as Unix tools do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (e) => { if (e.code === "EPIPE") process.exit(0); else throw e })
}
register()

const root = fileURLToPath(new URL("..", import.meta.url))
const cache = join(root, "node_modules", ".cache", "kspec")

/** Build the bundle (entry points: the CLI, the fuzz worker, the prove worker) and return the CLI's URL, or null. */
const bundle = async () => {
  try {
    const { build } = await import("esbuild")
    const staging = join(cache, "staging")
    const r = await build({
      entryPoints: { main: join(root, "cli/main.ts"), fuzzWorker: join(root, "cli/fuzzWorker.ts"), proveWorker: join(root, "harness/prove/worker.ts"), demoWorker: join(root, "cli/demoWorker.ts") },
      bundle: true, splitting: true, format: "esm", platform: "node", target: "node20", packages: "external",
      outdir: staging, write: false, logLevel: "silent", define: { __KSPEC_ROOT__: JSON.stringify(root) },
    })
    const files = r.outputFiles.map((f) => ({ name: relative(staging, f.path), contents: f.contents }))
    const h = createHash("sha256")
    for (const f of files) h.update(f.name).update(f.contents)
    const dir = join(cache, h.digest("hex").slice(0, 16))
    if (!existsSync(join(dir, "main.js"))) {
      // Write beside, then rename into place: a concurrent kspec sees a whole bundle or none.
      const tmp = `${dir}.tmp-${process.pid}`
      for (const f of files) {
        mkdirSync(dirname(join(tmp, f.name)), { recursive: true })
        writeFileSync(join(tmp, f.name), f.contents)
      }
      try { renameSync(tmp, dir) } catch { rmSync(tmp, { recursive: true, force: true }) }
      prune(dir)
    }
    if (!existsSync(join(dir, "main.js"))) return null
    // Mark it used, so that pruning (by age) spares a bundle in use.
    const now = new Date()
    utimesSync(dir, now, now)
    return pathToFileURL(join(dir, "main.js")).href
  } catch {
    return null
  }
}

/** Remove the bundles of other source versions not used for an hour (a use touches its directory). */
const prune = (keep) => {
  for (const name of readdirSync(cache)) {
    const p = join(cache, name)
    if (p === keep) continue
    try { if (Date.now() - statSync(p).mtimeMs > 3_600_000) rmSync(p, { recursive: true, force: true }) } catch { /* gone already */ }
  }
}

const sources = new URL("../cli/main.ts", import.meta.url).href
const bundled = process.env.KSPEC_TSX === "1" ? null : await bundle()
/** The CLI module: the bundle, or the sources if there is none or it cannot be loaded (pruned meanwhile, say). */
const cli = async () => {
  if (bundled !== null) { try { return await import(bundled) } catch { /* fall back to the sources */ } }
  return import(sources)
}
const { main } = await cli()
process.exitCode = await main(process.argv.slice(2))
