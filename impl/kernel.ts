/**
 * The implementation's entry point: a mutable kernel booted from a configuration and stepped one
 * kernel entry at a time.
 * @category objects
 */
import type { BootConfig, Event } from "../model/index.ts"
import { defaultNumDomainSchedules } from "../model/index.ts"
import { callKernel } from "./api/syscall.ts"
import { initKernel } from "./kernel/boot.ts"
import { ImplState } from "./state.ts"

/** Kernel build options (C config flags). */
export interface KernelOptions {
  /** Take the IPC fastpath for Call and ReplyRecv (C `CONFIG_FASTPATH`); default true. */
  readonly fastpath?: boolean
}

/**
 * A running kernel. Its fields (from `ImplState`) are the C kernel's state; treat them as read-only
 * outside `impl/`.
 */
export class Kernel extends ImplState {
  /**
   * Boot a kernel: the same initial state as the spec's `boot(config)`. `fastpath: false` sends
   * every Call and ReplyRecv down the slow path (the observable result must be the same).
   */
  static boot(config: BootConfig, options: KernelOptions = {}): Kernel {
    const k = new Kernel(config.numIRQs, config.numDomains, config.numDomainSchedules ?? defaultNumDomainSchedules(config.numDomains))
    initKernel(k, config)
    k.fastpathEnabled = options.fastpath ?? true
    return k
  }

  /** One kernel entry: handle the event, schedule, activate. */
  step(ev: Event): void {
    callKernel(this, ev)
  }
}
