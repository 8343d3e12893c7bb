import { readFileSync, readdirSync, statSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { expect, it } from "vitest"

// Every `@refines spec/<module>#<name>` tag in the impl names a spec function that exists, so a
// reader can always go from an impl function to its spec twin.
it("every @refines tag in impl/ points at a name in its spec module", () => {
  const src = resolve(dirname(fileURLToPath(import.meta.url)), "../..")
  const files = (dir: string): string[] =>
    readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : f.endsWith(".ts") ? [join(dir, f)] : []))
  const dangling: string[] = []
  let tags = 0
  for (const f of files(join(src, "impl"))) {
    for (const m of readFileSync(f, "utf8").matchAll(/@refines spec\/([\w/]+)#(\w+)/g)) {
      tags++
      const specFile = join(src, "spec", `${m[1]}.ts`)
      let text = ""
      try { text = readFileSync(specFile, "utf8") } catch { /* missing module: dangling */ }
      if (!new RegExp(`\\b(const|function|type|interface) ${m[2]}\\b`).test(text)) dangling.push(`${relative(src, f)}: ${m[0]}`)
    }
  }
  expect(tags).toBeGreaterThan(50)
  expect(dangling).toEqual([])
})
