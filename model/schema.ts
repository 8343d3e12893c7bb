/**
 * Effect Schemas for everything kspec reads from outside: events, boot configurations and
 * trace files. Untrusted input is decoded here and rejected with a message naming each problem.
 * @category decoding
 */
import { Result, Schema } from "effect"
import type { BootConfig } from "./config.ts"
import { defaultNumDomainSchedules, domainBits, kernelReservedTop } from "./config.ts"
import { msgMaxExtraCaps, msgMaxLength } from "./constants.ts"
import type { Event } from "./events.ts"
import { MemoryAccessKinds, SyscallKinds, UserFaultKinds } from "./events.ts"

/** A 32-bit machine word. */
export const Word = Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 2 ** 32 - 1 }, { expected: "a 32-bit word (0 to 4294967295)" })))

export const SyscallEventSchema = Schema.Struct({
  tag: Schema.Literal("Syscall"),
  syscall: Schema.Literals(SyscallKinds),
  cptr: Word,
  msgInfo: Word,
  mrs: Schema.Array(Word).pipe(Schema.check(Schema.isMaxLength(msgMaxLength))),
  extraCaps: Schema.Array(Word).pipe(Schema.check(Schema.isMaxLength(msgMaxExtraCaps))),
  recvSlot: Schema.optionalKey(Schema.Array(Word).pipe(Schema.check(Schema.isMaxLength(3)))),
  pendingIRQ: Schema.optionalKey(Word),
})
export const TimerTickEventSchema = Schema.Struct({ tag: Schema.Literal("TimerTick") })
export const InterruptEventSchema = Schema.Struct({ tag: Schema.Literal("Interrupt"), irq: Word })
export const UserFaultEventSchema = Schema.Struct({
  tag: Schema.Literal("UserFault"),
  kind: Schema.Literals(UserFaultKinds),
  words: Schema.Array(Word).pipe(Schema.check(Schema.isMaxLength(3))),
})
export const MemoryAccessEventSchema = Schema.Struct({
  tag: Schema.Literal("MemoryAccess"),
  kind: Schema.Literals(MemoryAccessKinds),
  vaddr: Word,
  value: Schema.optionalKey(Word),
})
export const EventSchema = Schema.Union([SyscallEventSchema, TimerTickEventSchema, InterruptEventSchema, UserFaultEventSchema, MemoryAccessEventSchema])

const MemoryRegionSchema = Schema.Struct({
  base: Word.pipe(Schema.check(Schema.isGreaterThanOrEqualTo(kernelReservedTop))),
  size: Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 2 ** 31 }))),
  isDevice: Schema.Boolean,
})

/** Most entries kspec allows in the kernel's domain schedule table. */
export const maxNumDomainSchedules = 1024

const DomainScheduleEntrySchema = Schema.Struct({
  domain: Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 2 ** domainBits - 1 }))),
  // Ticks: at least one, and exact in JSON (seL4 allows up to 2^56 - 1).
  length: Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }, { expected: "a tick count from 1 to 2^53 - 1" }))),
})

export const BootConfigSchema = Schema.Struct({
  rootCNodeBits: Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 5, maximum: 16 }))),
  memory: Schema.Array(MemoryRegionSchema).pipe(Schema.check(Schema.isMaxLength(16))),
  numIRQs: Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: 256 }))),
  numDomains: Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: 16 }))),
  domainSchedule: Schema.optionalKey(Schema.Array(DomainScheduleEntrySchema).pipe(Schema.check(Schema.isMinLength(1), Schema.isMaxLength(maxNumDomainSchedules - 1)))),
  numDomainSchedules: Schema.optionalKey(Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 2, maximum: maxNumDomainSchedules })))),
  workUnitsPerPreemption: Schema.optionalKey(Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: 10_000 })))),
  resetChunkBits: Schema.optionalKey(Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 4, maximum: 29 })))),
})

/**
 * The trace-file format version; files of another version come from an incompatible model.
 * Version 2: boot gives the root task an address space (its page table's cap in slot 16, the
 * untypeds from slot 17) and VSpace roots need an ASID, so version-1 traces mean other things.
 */
export const traceFormatVersion = 2

/** A saved counterexample or regression: a boot configuration and the events to replay. */
export const TraceFileSchema = Schema.Struct({
  kspec: Schema.Literal("trace"),
  version: Schema.Literal(traceFormatVersion),
  config: BootConfigSchema,
  events: Schema.Array(EventSchema),
  seed: Schema.optionalKey(Schema.Number),
  note: Schema.optionalKey(Schema.String),
})
export interface TraceFile {
  readonly kspec: "trace"
  readonly version: typeof traceFormatVersion
  readonly config: BootConfig
  readonly events: readonly Event[]
  readonly seed?: number
  readonly note?: string
}

/** Memory regions must lie in 32-bit space and not overlap one another. */
const regionProblems = (c: BootConfig): string[] => {
  const out: string[] = []
  const rs = [...c.memory].sort((a, b) => a.base - b.base)
  rs.forEach((r, i) => {
    if (r.base + r.size > 2 ** 32) out.push(`memory region at 0x${r.base.toString(16)} runs past the end of 32-bit space`)
    const next = rs[i + 1]
    if (next !== undefined && r.base + r.size > next.base) out.push(`memory regions at 0x${r.base.toString(16)} and 0x${next.base.toString(16)} overlap`)
  })
  return out
}

/**
 * The domain schedule must name domains below numDomains and fit the schedule table, whose last
 * entry is reserved for an end marker (seL4's boot-time checks of `ksDomSchedule`).
 */
const domainScheduleProblems = (c: BootConfig): string[] => {
  const out: string[] = []
  ;(c.domainSchedule ?? []).forEach((e, i) => {
    if (e.domain >= c.numDomains) out.push(`domainSchedule[${i}].domain: ${e.domain} is not below numDomains (${c.numDomains})`)
  })
  const n = c.numDomainSchedules ?? defaultNumDomainSchedules(c.numDomains)
  const len = c.domainSchedule?.length ?? 1
  if (len > n - 1) {
    out.push(`domainSchedule: ${len} entries do not fit numDomainSchedules ${n}${c.numDomainSchedules === undefined ? " (the default)" : ""}, which must be at least ${len + 1} (the last entry is an end marker)`)
  }
  return out
}

/** Everything a boot configuration can get wrong beyond its fields' shapes. */
const configProblems = (c: BootConfig): string[] => [...regionProblems(c), ...domainScheduleProblems(c)]

export type Decoded<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string }

const decodeWith = <T>(schema: Schema.Top & { readonly Type: unknown }, input: unknown): Decoded<T> => {
  const r = Schema.decodeUnknownResult(schema as never)(input, { errors: "all" })
  return Result.isFailure(r) ? { ok: false, message: (r.failure as { message: string }).message } : { ok: true, value: r.success as T }
}

/** Decode a boot configuration from untrusted JSON data. */
export const decodeBootConfig = (input: unknown): Decoded<BootConfig> => {
  const d = decodeWith<BootConfig>(BootConfigSchema, input)
  if (!d.ok) return d
  const p = configProblems(d.value)
  return p.length > 0 ? { ok: false, message: p.join("\n") } : d
}

/** Decode a trace file from its text. */
export const decodeTraceFile = (text: string): Decoded<TraceFile> => {
  let json: unknown
  try { json = JSON.parse(text) } catch (e) { return { ok: false, message: `not valid JSON: ${(e as Error).message}` } }
  if (typeof json === "object" && json !== null && "version" in json && (json as { version: unknown }).version !== traceFormatVersion) {
    return { ok: false, message: `trace format version ${JSON.stringify((json as { version: unknown }).version)} is not supported (this kspec reads version ${traceFormatVersion})` }
  }
  const d = decodeWith<TraceFile>(TraceFileSchema, json)
  if (!d.ok) return d
  const p = configProblems(d.value.config)
  return p.length > 0 ? { ok: false, message: p.join("\n") } : d
}

/** Decode one event. */
export const decodeEvent = (input: unknown): Decoded<Event> => decodeWith<Event>(EventSchema, input)
