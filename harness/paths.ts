/**
 * Where the project lives on disk, for the files kspec reads and writes (docs, regressions,
 * benchmark results, mutant builds), whether it runs from the sources (tsx, vitest) or from the
 * bundle the `kspec` command builds (bin/kspec.js defines `__KSPEC_ROOT__` in the bundle, whose
 * own location is a cache directory).
 * @category cli
 */
import { dirname, resolve } from "node:path"
import { fileURLToPath } from "node:url"

declare const __KSPEC_ROOT__: string | undefined

/** The project root: the directory holding package.json, model/, spec/, impl/ and docs/. */
export const projectRoot: string =
  typeof __KSPEC_ROOT__ === "string" ? __KSPEC_ROOT__ : resolve(dirname(fileURLToPath(import.meta.url)), "..")

