/**
 * Thread control: suspension, IPC cancellation, and reading and writing a thread's message
 * registers (seL4 src/object/tcb.c, src/kernel/thread.c, A/Tcb_A, A/IpcCancel_A).
 * @category objects
 */
import { match } from "ts-pattern"
import type { PPtr, SyscallError, UserContext } from "../../model/index.ts"
import { messageInfo, nMsgRegisters, syscallErrorWords, errorCode, tcbBuffer, tcbReply } from "../../model/index.ts"
import type { KernelState } from "../state.ts"
import { getCap, getTcb, slotOf, updateTcb } from "../state.ts"
import { setThreadState, tcbSchedDequeue } from "../kernel/thread.ts"
import { blockedCancelIPC } from "./endpoint.ts"
import { cancelSignal } from "./notification.ts"
import { cteDelete } from "./cnode.ts"

/**
 * Does the thread have a usable IPC buffer? It needs a non-device frame cap in its buffer slot
 * with read-write rights (read-only suffices when it only sends). Mirrors seL4 `lookupIPCBuffer`.
 */
export const lookupIPCBuffer = (s: KernelState, isReceiver: boolean, t: PPtr): boolean => {
  const c = getCap(s, slotOf(t, tcbBuffer))
  if (c.tag !== "FrameCap" || c.isDevice) return false
  return c.vmRights === "ReadWrite" || (!isReceiver && c.vmRights === "ReadOnly")
}

/**
 * Write message words MR0.. into a context: the first four always (CPU registers), the rest
 * only with an IPC buffer. Returns the new context and the message length seL4 reports (the
 * count written, or 4 when the buffer was missing). Mirrors seL4 `setMR` applied in sequence.
 */
export const setMRs = (ctx: UserContext, hasBuffer: boolean, words: readonly number[]): { ctx: UserContext; len: number } => {
  const n = hasBuffer ? words.length : Math.min(words.length, nMsgRegisters)
  if (n === 0) return { ctx, len: 0 }
  const mrs = ctx.mrs.slice()
  for (let i = 0; i < n; i++) mrs[i] = words[i]!
  return { ctx: { ...ctx, mrs }, len: words.length > n ? nMsgRegisters : n }
}

/** Argument `i` of the current message (MR i). Mirrors seL4 `getSyscallArg`. */
export const getSyscallArg = (s: KernelState, t: PPtr, i: number): number => getTcb(s, t).tcbContext.mrs[i] ?? 0

/**
 * Reply a syscall error to `t`: badge 0, the error's words in the message registers, and a
 * message info with the error code as label. Mirrors seL4 `replyFromKernel_error`.
 */
export const replyFromKernelError = (s: KernelState, t: PPtr, e: SyscallError): KernelState => {
  const hasBuffer = lookupIPCBuffer(s, true, t)
  return updateTcb(s, t, (tcb) => {
    const { ctx, len } = setMRs(tcb.tcbContext, hasBuffer, syscallErrorWords(e))
    return { ...tcb, tcbContext: { ...ctx, badge: 0, msgInfo: messageInfo(errorCode[e.tag], len) } }
  })
}

/** Reply an empty success to `t`: badge 0, message info 0. Mirrors seL4 `replyFromKernel_success_empty`. */
export const replyFromKernelSuccessEmpty = (s: KernelState, t: PPtr): KernelState =>
  updateTcb(s, t, (tcb) => ({ ...tcb, tcbContext: { ...tcb.tcbContext, badge: 0, msgInfo: 0 } }))

/**
 * Stop whatever IPC the thread is blocked in: leave an endpoint or notification queue (the
 * thread becomes Inactive), or, waiting for a reply, forget its fault and delete the reply cap
 * its caller holds. Mirrors seL4 `cancelIPC` (non-MCS).
 */
export const cancelIPC = (s: KernelState, t: PPtr): KernelState =>
  match(getTcb(s, t).tcbState)
    .with({ tag: "BlockedOnSend" }, { tag: "BlockedOnReceive" }, ({ ep }) => blockedCancelIPC(s, t, ep))
    .with({ tag: "BlockedOnNotification" }, ({ ntfn }) => cancelSignal(s, t, ntfn))
    .with({ tag: "BlockedOnReply" }, () => {
      const s1 = updateTcb(s, t, (tcb) => ({ ...tcb, tcbFault: null }))
      const callerCap = s1.cdtList.get(slotOf(t, tcbReply))?.[0]
      return callerCap === undefined ? s1 : cteDelete(s1, callerCap)
    })
    .with({ tag: "Running" }, { tag: "Restart" }, { tag: "Inactive" }, { tag: "IdleThreadState" }, () => s)
    .exhaustive()

/** Stop a thread: cancel its IPC, make it Inactive and take it off the ready queue. Mirrors seL4 `suspend`. */
export const suspend = (s: KernelState, t: PPtr): KernelState =>
  tcbSchedDequeue(setThreadState(cancelIPC(s, t), t, { tag: "Inactive" }), t)
