/**
 * The implementation's entry point: a mutable kernel booted from a configuration and stepped one
 * kernel entry at a time.
 * @category objects
 */
import type { BootConfig, Event } from "../model/index.ts"
import { callKernel } from "./api/syscall.ts"
import { initKernel } from "./kernel/boot.ts"
import { ImplState } from "./state.ts"

/**
 * A running kernel. Its fields (from `ImplState`) are the C kernel's state; treat them as read-only
 * outside `src/impl`.
 */
export class Kernel extends ImplState {
  /** Boot a kernel: the same initial state as the spec's `boot(config)`. */
  static boot(config: BootConfig): Kernel {
    const k = new Kernel(config.numIRQs, config.numDomains)
    initKernel(k, config)
    return k
  }

  /** One kernel entry: handle the event, schedule, activate. */
  step(ev: Event): void {
    callKernel(this, ev)
  }
}
