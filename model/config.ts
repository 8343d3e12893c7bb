/**
 * Boot configuration: what memory the root task's untyped caps cover, how big its CSpace is, and
 * the scheduling domains with their static domain schedule.
 * @category objects
 */

export interface MemoryRegion {
  /** First byte. */
  readonly base: number
  /** Size in bytes. */
  readonly size: number
  /** Device memory: only frames and untypeds may be made from it. */
  readonly isDevice: boolean
}

export interface BootConfig {
  /** Radix of the root CNode (seL4 `CONFIG_ROOT_CNODE_SIZE_BITS`), 5..16 here. */
  readonly rootCNodeBits: number
  /** Memory handed to the root task as untyped caps, in aligned power-of-two blocks. */
  readonly memory: readonly MemoryRegion[]
  /** Number of IRQ lines (IRQs 0..numIRQs-1). */
  readonly numIRQs: number
  /** Number of scheduling domains. */
  readonly numDomains: number
  /**
   * The domain schedule the kernel boots with, in order: each entry runs `domain` for `length`
   * timer ticks, then the next entry's domain runs; after the last entry the schedule starts over
   * (seL4's static `ksDomSchedule`, which seL4 15.0 made configurable at run time with
   * DomainSet_ScheduleConfigure). Absent: seL4's boot schedule, one domain-0 entry of the
   * longest duration (`maxDomainDuration`).
   */
  readonly domainSchedule?: readonly DomainScheduleEntry[]
  /**
   * Entries in the kernel's domain schedule table, the last always an end marker (seL4
   * `CONFIG_NUM_DOMAIN_SCHEDULES`). Absent: seL4's default, 100 with several domains, else 2.
   */
  readonly numDomainSchedules?: number
  /**
   * Preemption points a long operation passes between two looks at the interrupt controller
   * (seL4 `CONFIG_MAX_NUM_WORK_UNITS_PER_PREEMPTION`, l4v `work_units_limit`). Absent: seL4's
   * default, 100.
   */
  readonly workUnitsPerPreemption?: number
  /**
   * log2 of the bytes an untyped reset clears between two preemption points (seL4
   * `CONFIG_RESET_CHUNK_BITS`, l4v `resetChunkBits`). Absent: seL4's default, 8.
   */
  readonly resetChunkBits?: number
}

/** One entry of a boot domain schedule: run `domain` for `length` ticks. */
export interface DomainScheduleEntry {
  readonly domain: number
  readonly length: number
}

/** Bits of a schedule entry's domain (seL4 `DSCHED_DOMAIN_BITS`); the duration has the other 56 of 64. */
export const domainBits = 8
/** The longest domain duration, 2^56 - 1 ticks (seL4 `DSCHED_MAX_DURATION`, l4v `max_domain_duration`). */
export const maxDomainDuration: bigint = (1n << BigInt(64 - domainBits)) - 1n
/** seL4's default `CONFIG_NUM_DOMAIN_SCHEDULES`: 100 entries with several domains, 2 with one. */
export const defaultNumDomainSchedules = (numDomains: number): number => (numDomains > 1 ? 100 : 2)

/** seL4's default `CONFIG_MAX_NUM_WORK_UNITS_PER_PREEMPTION` (l4v `work_units_limit` = 0x64). */
export const defaultWorkUnitsPerPreemption = 100
/** seL4's default `CONFIG_RESET_CHUNK_BITS`. */
export const defaultResetChunkBits = 8

/**
 * Kernel-reserved memory: boot objects (idle and root TCBs, root CNode, IPC buffer frame) live
 * below this address, so untyped regions must start at or above it.
 */
export const kernelReservedTop = 0x1000_0000

/**
 * The default configuration: a 256-slot root CNode, a little over 1 MiB of RAM in uneven pieces,
 * and device memory: 8 KiB, and 16 MiB (room for one super section). The kernel looks at the
 * interrupt controller every 2 preemption points (seL4 looks every 100), so a pending interrupt
 * can stop even a short deletion (a TCB's five slots) part-way, and stop its restart again.
 */
export const defaultBootConfig: BootConfig = {
  rootCNodeBits: 8,
  memory: [
    { base: 0x2000_0000, size: 0x10_0000, isDevice: false },
    { base: 0x2010_0000, size: 0x1_3000, isDevice: false },
    { base: 0x4000_0000, size: 0x2000, isDevice: true },
    { base: 0x4100_0000, size: 0x100_0000, isDevice: true },
  ],
  numIRQs: 16,
  numDomains: 1,
  workUnitsPerPreemption: 2,
}
