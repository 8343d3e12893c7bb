/**
 * The system's layout: who runs, at what priority, which caps sit in which slot of each
 * process's CSpace, where each process's memory is mapped, and the protocols' labels and words.
 * The root task builds exactly this; the programs are compiled against it (as a Microkit system
 * description and the protection domains built from it agree).
 * @category library
 */

/** Process ids: the badge of each one's caps to shared services and its fault endpoint. */
export const Pid = { supervisor: 1, timerDriver: 2, timerVirt: 3, nameServer: 4, fileServer: 5, firstClient: 6 } as const
/** The supervised servers, and the names the report uses. */
export const servers = [Pid.timerDriver, Pid.timerVirt, Pid.nameServer, Pid.fileServer] as const
export type ServerPid = (typeof servers)[number]
export const processName = (pid: number): string =>
  pid === 0 ? "root" : pid === Pid.supervisor ? "supervisor" : pid === Pid.timerDriver ? "timer-driver" : pid === Pid.timerVirt ? "timer-virt"
    : pid === Pid.nameServer ? "name-server" : pid === Pid.fileServer ? "file-server" : `client-${pid - Pid.firstClient}`

/** Priorities: the supervisor above the driver above the virtualiser above the servers above the clients. */
export const priorityOf = (pid: number): number =>
  pid === Pid.supervisor ? 250 : pid === Pid.timerDriver ? 240 : pid === Pid.timerVirt ? 230 : pid === Pid.nameServer || pid === Pid.fileServer ? 200 : 100

/** Interrupt lines: the timer device the driver owns, and the watchdog timer the supervisor owns. */
export const Irq = { timer: 5, watchdog: 6 } as const

/** Radix of every process's CNode (32 slots; cap pointer i is slot i). */
export const processCNodeBits = 5

/** Cap slots in a process's CNode. */
export const Slot = {
  /** A badged (pid) cap to the supervisor's fault endpoint: the TCB's fault handler. */
  faultEP: 1,
  /** The name server's endpoint, badged with the caller's pid (Write + GrantReply). */
  nameServer: 2,
  /** The file server's endpoint, badged (clients). */
  fileServer: 3,
  /** The process's own notification (all rights): IRQs for the driver and supervisor, signals for the virtualiser and clients. */
  notification: 4,
  /** An IRQ handler (the driver's timer line, the supervisor's watchdog line). */
  irqHandler: 5,
  /** The virtualiser's notification, badged with the signaller's bit (`virtBit`). */
  virt: 6,
  /** The endpoint a server receives on (Read): the name server's, the file server's, the supervisor's fault endpoint. */
  serve: 7,
  /** First of a table: the virtualiser's caps to each client's notification; the supervisor's caps to each server's TCB (by pid). */
  table: 8,
} as const

/** The bit a signaller sets on the virtualiser's notification: the driver bit 0, client i bit 1 + i. */
export const virtBit = (pid: number): number => (pid === Pid.timerDriver ? 1 : 1 << (1 + pid - Pid.firstClient)) >>> 0
/** Badge bits on the supervisor's and driver's notifications. */
export const NtfnBit = { irq: 1 } as const

// ---- memory (every process maps one MiB region through one page table) -----------------------------

/** The MiB every process's page table covers. */
export const regionVA = 0x0100_0000
/** Each process's IPC buffer. */
export const ipcBufferVA = 0x0100_0000
/** Each process's private page: at a different address in each, so a wild access aimed at another's data faults. */
export const privateVA = (pid: number): number => 0x0101_0000 + pid * 0x1000
/** A server's status page (its heartbeat, read-only to the supervisor). */
export const statusVA = 0x0102_0000
/** Timer queues: in the virtualiser k = 0 is the driver's, k = 1 + i client i's; the driver and each client see theirs at k = 0. */
export const queueVA = (k: number): number => 0x0103_0000 + k * 0x1000
/** File-server data buffers: in the file server client i's at i; each client sees its own at 0. */
export const fsBufferVA = (i: number): number => 0x0104_0000 + i * 0x1000
/** The supervisor's read-only view of server pid's status page. */
export const supervisorStatusVA = (pid: number): number => 0x0105_0000 + pid * 0x1000

/** Status-page words: the request a server is busy with (0: idle in Recv), requests served. */
export const Status = { busy: 0, served: 4 } as const

/** Timer queues: requests [seq, ticks] from a client, responses [seq, status] to it, ticks [count] from the driver. */
export const ringCapacity = 8
export const requestRingVA = (page: number): number => page
export const responseRingVA = (page: number): number => page + 0x200
export const TimerStatus = { ok: 0, restarted: 1 } as const

// ---- protocols -------------------------------------------------------------------------------------

/** Request labels. */
export const Label = { register: 1, lookup: 2, write: 3, read: 4 } as const
/** Reply labels other than 0 (success). */
export const ErrorLabel = { notFound: 10, badRequest: 11, restarted: 12 } as const
/** Names in the name server. */
export const Name = { fileServer: 0x66730000 } as const
/** What the file server registers under its name. */
export const fileServerMagic = 0x0f5e_0001
/** Most words a file holds (and a WRITE carries). */
export const maxFileWords = 4

/** Program images: entry addresses (page aligned; a start sets PC = entry + 4 * generation). */
export const Image = {
  supervisor: 0x0001_0000, timerDriver: 0x0002_0000, timerVirt: 0x0003_0000, nameServer: 0x0004_0000,
  fileServer: 0x0005_0000, client: 0x0006_0000,
} as const
export const imageOfPid = (pid: number): number =>
  pid === Pid.supervisor ? Image.supervisor : pid === Pid.timerDriver ? Image.timerDriver : pid === Pid.timerVirt ? Image.timerVirt
    : pid === Pid.nameServer ? Image.nameServer : pid === Pid.fileServer ? Image.fileServer : Image.client
/** The pid a thread running `image` with argument `arg` stands for (the runtime's bookkeeping and reports). */
export const pidOfImage = (image: number, arg: number): number =>
  image === Image.supervisor ? Pid.supervisor : image === Image.timerDriver ? Pid.timerDriver : image === Image.timerVirt ? Pid.timerVirt
    : image === Image.nameServer ? Pid.nameServer : image === Image.fileServer ? Pid.fileServer : image === Image.client ? Pid.firstClient + arg : -1
