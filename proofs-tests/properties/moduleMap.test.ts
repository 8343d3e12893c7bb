import { readFileSync, readdirSync, statSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

// spec/ and impl/ share one module map, seL4's (ARCHITECTURE.md, style rule 1): a function defined
// in both layers lives in the same file stem in both (spec/object/endpoint.ts beside
// impl/object/endpoint.ts), so a reader can put spec/X.ts beside impl/X.ts for every X. Names
// match up to seL4's C-versus-Haskell spelling: `replyFromKernel_error` (C) is the spec's
// `replyFromKernelError`, so underscores and case are ignored when pairing names.

/** Where a layer defines its top-level functions: name -> the file stems defining it. */
type LayerMap = ReadonlyMap<string, readonly string[]>

/**
 * Names shared by both layers that may live in different stems, each with its reason. Keep it
 * tiny: an entry is a place where the two layers tell the story in different files on purpose.
 */
const allowed: ReadonlyMap<string, string> = new Map([
  // (none: every shared name lives in the same stem in both layers)
])

/** Not part of the kernel's module map: the invariants (spec only) and the persistent maps the spec's state is built on. */
const excluded = (stem: string): boolean => stem.startsWith("invariants/") || stem === "persistent"

/** Names paired across layers: seL4's C and Haskell spellings of one function meet here. */
const pairKey = (name: string): string => name.replace(/_/g, "").toLowerCase()

/**
 * The names of the functions a source file defines at top level (column 0): `function f`, and
 * `const f =` an arrow function or function expression, exported or not.
 */
const topLevelFunctions = (source: string): string[] => {
  const names: string[] = []
  for (const m of source.matchAll(/^(?:export\s+)?(?:async\s+)?function\s*\*?\s*(\w+)/gm)) names.push(m[1]!)
  for (const m of source.matchAll(/^(?:export\s+)?const\s+(\w+)\s*(?::[^=\n]+)?=\s*/gm)) {
    const rhs = source.slice(m.index + m[0].length)
    if (/^(async\b|function\b|<|\w+\s*=>)/.test(rhs)) names.push(m[1]!)
    else if (rhs.startsWith("(")) {
      // An arrow function: the parameter list closes, then (after any return type) `=>` on that line.
      let depth = 0
      let i = 0
      for (; i < rhs.length; i++) {
        if (rhs[i] === "(") depth++
        else if (rhs[i] === ")" && --depth === 0) break
      }
      const eol = rhs.indexOf("\n", i + 1)
      const after = rhs.slice(i + 1, eol < 0 ? rhs.length : eol)
      if (/^\s*(:.*)?=>/.test(after)) names.push(m[1]!)
    }
  }
  return names
}

/** Every function a layer defines at top level, by name, with the stems (paths without `.ts`) that define it. */
const layerMap = (root: string): LayerMap => {
  const files = (dir: string): string[] =>
    readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : f.endsWith(".ts") ? [join(dir, f)] : []))
  const m = new Map<string, string[]>()
  for (const f of files(root)) {
    const stem = relative(root, f).replace(/\\/g, "/").replace(/\.ts$/, "")
    if (excluded(stem)) continue
    for (const name of topLevelFunctions(readFileSync(f, "utf8"))) m.set(name, [...(m.get(name) ?? []), stem])
  }
  return m
}

/** The layer's names and stems grouped by pair key. */
const byKey = (m: LayerMap): Map<string, { names: string[]; stems: Set<string> }> => {
  const out = new Map<string, { names: string[]; stems: Set<string> }>()
  for (const [name, stems] of m) {
    const e = out.get(pairKey(name)) ?? { names: [], stems: new Set<string>() }
    e.names.push(name)
    for (const s of stems) e.stems.add(s)
    out.set(pairKey(name), e)
  }
  return out
}

/** The result of comparing the two layers' maps. */
interface Alignment {
  /** Names defined in both layers, as `spec name` (`spec name / impl name` when the spellings differ). */
  readonly shared: readonly string[]
  /** Shared names that live in no common stem and are not allowed to, with where each layer has them. */
  readonly misaligned: readonly string[]
  /** Allow-list entries that no longer name a misaligned shared name (the list must not rot). */
  readonly staleAllowed: readonly string[]
}

/** Compare where the two layers define their shared names. */
const alignment = (spec: LayerMap, impl: LayerMap, allow: ReadonlyMap<string, string>): Alignment => {
  const s = byKey(spec)
  const i = byKey(impl)
  const shared: string[] = []
  const misaligned: string[] = []
  const usedAllow = new Set<string>()
  for (const [key, a] of s) {
    const b = i.get(key)
    if (b === undefined) continue
    const names = [...new Set([...a.names, ...b.names])]
    shared.push(names.join(" / "))
    if ([...a.stems].some((stem) => b.stems.has(stem))) continue
    const allowedAs = names.find((n) => allow.has(n))
    if (allowedAs !== undefined) {
      usedAllow.add(allowedAs)
      continue
    }
    misaligned.push(`${names.join(" / ")}: spec ${[...a.stems].join(", ")} | impl ${[...b.stems].join(", ")}`)
  }
  return { shared, misaligned, staleAllowed: [...allow.keys()].filter((n) => !usedAllow.has(n)) }
}

describe("one module map: spec/X.ts and impl/X.ts define the same functions", () => {
  const src = resolve(dirname(fileURLToPath(import.meta.url)), "../..")
  const a = alignment(layerMap(join(src, "spec")), layerMap(join(src, "impl")), allowed)

  it("every function defined in both layers lives in the same file stem in both", () => {
    expect(a.shared.length).toBeGreaterThan(100)
    expect(a.misaligned).toEqual([])
  })

  it("every allow-list entry is still a needed exception", () => {
    expect(a.staleAllowed).toEqual([])
  })
})

describe("the module-map check itself", () => {
  const map = (entries: Record<string, string[]>): LayerMap => new Map(Object.entries(entries))

  it("finds top-level function declarations and arrow functions, and nothing else", () => {
    const source = [
      "export function sendIPC(k: ImplState): void {",
      "  function inner(): void {}",
      "}",
      "const setEPState = (s: KernelState, ep: PPtr): KernelState => s",
      "export const mapSet = <K extends number, V>(m: ReadonlyMap<K, V>): ReadonlyMap<K, V> =>",
      "  m",
      "export const observe = (s: KernelState, t: PPtr): { ctx: UserContext; len: number } => ({ ctx, len })",
      "const one = x => x",
      "const truncated: SyscallError = { tag: \"TruncatedMessage\" }",
      "const invalidCap0: Result<never, SyscallError> = err({ tag: \"InvalidCapability\", capability: 0 })",
      "const sum = (a + b) * 2",
      "export const isValidVTableRoot = (cap: Cap): boolean => cap.tag === \"PageDirectoryCap\"",
    ].join("\n")
    expect(topLevelFunctions(source).sort()).toEqual(["isValidVTableRoot", "mapSet", "observe", "one", "sendIPC", "setEPState"])
  })

  it("reports a shared name defined in different stems", () => {
    const r = alignment(
      map({ sendIPC: ["object/endpoint"], cteInsert: ["object/cnode"], specOnly: ["object/tcb"] }),
      map({ sendIPC: ["kernel/ipc"], cteInsert: ["object/cnode"], implOnly: ["object/tcb"] }),
      new Map(),
    )
    expect(r.shared).toEqual(["sendIPC", "cteInsert"])
    expect(r.misaligned).toEqual(["sendIPC: spec object/endpoint | impl kernel/ipc"])
  })

  it("pairs seL4's C and Haskell spellings of one name", () => {
    const r = alignment(
      map({ replyFromKernelError: ["object/tcb"], invokeUntypedRetype: ["object/untyped"] }),
      map({ replyFromKernel_error: ["object/endpoint"], invokeUntyped_Retype: ["object/untyped"] }),
      new Map(),
    )
    expect(r.misaligned).toEqual(["replyFromKernelError / replyFromKernel_error: spec object/tcb | impl object/endpoint"])
  })

  it("accepts a name defined in several stems when one of them is shared", () => {
    const r = alignment(map({ getSyscallArg: ["api/syscall"] }), map({ getSyscallArg: ["api/syscall", "object/cnode"] }), new Map())
    expect(r.misaligned).toEqual([])
  })

  it("lets an allow-listed name differ, and reports an allow-list entry that is no longer needed", () => {
    const r = alignment(
      map({ handleYield: ["kernel/thread"], sendIPC: ["object/endpoint"] }),
      map({ handleYield: ["api/syscall"], sendIPC: ["object/endpoint"] }),
      new Map([["handleYield", "a made-up reason"], ["sendIPC", "no longer needed"]]),
    )
    expect(r.misaligned).toEqual([])
    expect(r.staleAllowed).toEqual(["sendIPC"])
  })
})
