import { readFileSync } from "node:fs"
import { dirname, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { expect, it } from "vitest"

// README's library example is this directory's library.test.ts, verbatim: the example is a test.
it("README's library example is proofs-tests/examples/library.test.ts", () => {
  const here = dirname(fileURLToPath(import.meta.url))
  const readme = readFileSync(resolve(here, "../../README.md"), "utf8")
  const example = readFileSync(resolve(here, "library.test.ts"), "utf8")
  const m = /<!-- example: proofs-tests\/examples\/library\.test\.ts -->\n```ts\n([\s\S]*?)```/.exec(readme)
  expect(m, "README has no library example block").not.toBeNull()
  expect(m![1]).toBe(example)
})
