/**
 * Boot configuration: what memory the root task's untyped caps cover and how big its CSpace is.
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
}

/**
 * Kernel-reserved memory: boot objects (idle and root TCBs, root CNode, IPC buffer frame) live
 * below this address, so untyped regions must start at or above it.
 */
export const kernelReservedTop = 0x1000_0000

/**
 * The default configuration: a 256-slot root CNode, a little over 1 MiB of RAM in uneven pieces,
 * and device memory: 8 KiB, and 16 MiB (room for one super section).
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
}
