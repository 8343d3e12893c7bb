/**
 * seL4's aarch32 constants (libsel4/sel4_arch_include/aarch32/sel4/sel4_arch/constants.h, non-MCS,
 * no FPU/hypervisor/debug configuration, so `seL4_TCBBits` = 9).
 * @category objects
 */

/** Bytes per capability slot, as a power of two. `seL4_SlotBits`. */
export const slotBits = 4
/** TCB object size bits. `seL4_TCBBits` (9 without FPU, hypervisor or debug API). */
export const tcbBits = 9
/** Endpoint object size bits. `seL4_EndpointBits`. */
export const endpointBits = 4
/** Notification object size bits (non-MCS). `seL4_NotificationBits`. */
export const notificationBits = 4
/** Small page (4 KiB). `seL4_PageBits`. */
export const pageBits = 12
/** Large page (64 KiB). `seL4_LargePageBits`. */
export const largePageBits = 16
/** Section (1 MiB). `seL4_SectionBits`. */
export const sectionBits = 20
/** Super section (16 MiB). `seL4_SuperSectionBits`. */
export const superSectionBits = 24
/** Page table (1 KiB). `seL4_PageTableBits`. */
export const pageTableBits = 10
/** Page directory (16 KiB). `seL4_PageDirBits`. */
export const pageDirBits = 14
/** Smallest untyped. `seL4_MinUntypedBits`. */
export const minUntypedBits = 4
/** Largest untyped. `seL4_MaxUntypedBits`. */
export const maxUntypedBits = 29
/** Badges are 28 bits on 32-bit platforms. `seL4_BadgeBits`. */
export const badgeBits = 28
/** Longest message, in words. `seL4_MsgMaxLength`. */
export const msgMaxLength = 120
/** Most extra caps in one message. `seL4_MsgMaxExtraCaps`. */
export const msgMaxExtraCaps = 3
/** Message registers held in CPU registers on ARM (`n_msgRegisters`); the rest live in the IPC buffer. */
export const nMsgRegisters = 4
/**
 * The IPC buffer's layout (libsel4 `seL4_IPCBuffer`, 128 words): word 0 the tag, words 1..120
 * msg[0..119] (MR i at word 1 + i), word 121 userData, words 122..124 caps_or_badges[0..2],
 * words 125..127 receiveCNode, receiveIndex, receiveDepth.
 */
export const ipcBufferWords = 128
/** The buffer word of message register `i`. */
export const bufferMsgWord = (i: number): number => 1 + i
/** The first of the buffer's `caps_or_badges` words (seL4 `seL4_MsgMaxLength + 2`). */
export const bufferCapsWord = msgMaxLength + 2
/** The first of the buffer's receive-slot words (receiveCNode; receiveIndex and receiveDepth follow). */
export const bufferReceiveWord = bufferCapsWord + msgMaxExtraCaps
/** Most objects one Untyped_Retype may create. `CONFIG_RETYPE_FAN_OUT_LIMIT`. */
export const retypeFanOutLimit = 256
/** Priorities 0..255. `seL4_NumPriorities`. */
export const numPriorities = 256
/** Highest priority. `seL4_MaxPrio`. */
export const maxPrio = 255
/** Ticks in a fresh time slice. `CONFIG_TIME_SLICE`. */
export const timeSlice = 5
/** Slots in a TCB's own cap table: ctable, vtable, reply, caller, ipc buffer frame. */
export const tcbCNodeEntries = 5
/** The radix of a TCB's cap table, rounded up (C `TCB_CNODE_RADIX`): what a TCB's Zombie counts in. */
export const tcbCNodeRadix = 4
/** TCB cap-table slot indices (seL4 `tcb_cnode_index`). */
export const tcbCTable = 0
export const tcbVTable = 1
export const tcbReply = 2
export const tcbCaller = 3
export const tcbBuffer = 4
/** IPC buffer alignment: the buffer must be aligned to 2^9 bytes. `seL4_IPCBufferSizeBits`. */
export const ipcBufferSizeBits = 9

/**
 * Initial CSpace slots of the root task (libsel4 bootinfo_types.h `seL4_RootCNodeCapSlots`).
 * kspec fills the ones in its scope; the others stay empty.
 */
export const InitialSlot = {
  Null: 0,
  InitThreadTCB: 1,
  InitThreadCNode: 2,
  InitThreadVSpace: 3,
  IRQControl: 4,
  ASIDControl: 5,
  InitThreadASIDPool: 6,
  IOPortControl: 7,
  IOSpace: 8,
  BootInfoFrame: 9,
  InitThreadIPCBuffer: 10,
  Domain: 11,
  NumInitialCaps: 16,
} as const

/** The kernel timer's interrupt line (seL4 `KERNEL_TIMER_IRQ`): `IRQTimer` from boot, never issued to users. */
export const timerIRQ = 0
/** IPC buffer alignment the TCB invocations check: `seL4_IPCBufferSizeBits` (`msgAlignBits` in C). */
export const msgAlignBits = ipcBufferSizeBits

// ---- virtual memory (aarch32, short descriptors, no hypervisor) -------------------------------------

/** Page-table entries, as a power of two: 256 entries of 4 bytes. `seL4_PageTableIndexBits`. */
export const ptIndexBits = 8
/** Page-directory entries, as a power of two: 4096 entries of 4 bytes. `seL4_PageDirIndexBits`. */
export const pdIndexBits = 12
/** Bytes per PTE and per PDE, as a power of two. `seL4_PageTableEntryBits`, `seL4_PageDirEntryBits`. */
export const pteSizeBits = 2
export const pdeSizeBits = 2
/** ASID pools: 2^asidHighBits of them, 2^asidLowBits ASIDs each (`seL4_NumASIDPoolsBits`, `seL4_ASIDPoolIndexBits`). */
export const asidHighBits = 7
export const asidLowBits = 10
/** An ASID is 17 bits. */
export const asidBits = asidHighBits + asidLowBits
/** An ASID pool object is one 4 KiB page. `seL4_ASIDPoolBits`. */
export const asidPoolBits = 12
/** ASID 0 is never given to a page directory (seL4 `asidInvalid`). */
export const asidInvalid = 0
/**
 * The lowest kernel virtual address and the end of user space (seL4 `USER_TOP` = `PPTR_BASE` =
 * `seL4_UserTop`, 0xe0000000 on the verified imx6 platform; l4v `kernel_base`). PDEs from index
 * `kernelBase >> 20` up are the kernel window, copied into every page directory.
 */
export const kernelBase = 0xe000_0000
/** The initial thread's ASID (seL4 `IT_ASID`): slot 1 of the first ASID pool. */
export const initThreadASID = 1
/** Entries a large page (64 KiB) fills in a page table, and a super section (16 MiB) in a page directory: 16 each. */
export const pagesPerLargePage = 1 << (largePageBits - pageBits)
export const sectionsPerSuperSection = 1 << (superSectionBits - sectionBits)
