/**
 * The system: the boot configuration, the program images, the devices, and a runtime that runs
 * them on a machine (the impl, or the impl in lockstep with the spec).
 * @category library
 */
import type { BootConfig } from "../model/index.ts"
import type { ImplUnderTest } from "../harness/lockstep/runner.ts"
import type { Machine } from "./machine.ts"
import { implMachine, lockstepMachine } from "./machine.ts"
import type { Program, StartContext } from "./lib.ts"
import { Image, Irq } from "./layout.ts"
import type { Injector } from "./runtime.ts"
import { Runtime } from "./runtime.ts"
import type { SystemSpec } from "./rootTask.ts"
import { rootTask } from "./rootTask.ts"
import { client } from "./servers/client.ts"
import { fileServer } from "./servers/fileServer.ts"
import type { ServerBugs } from "./servers/nameServer.ts"
import { nameServer } from "./servers/nameServer.ts"
import type { RestartPolicy, SupervisorOptions } from "./servers/supervisor.ts"
import { defaultPolicy, supervisor } from "./servers/supervisor.ts"
import { timerDriver, timerVirt } from "./servers/timer.ts"

/** The board: 4 MiB of RAM for the root task to build from, a 1024-slot root CNode, 16 interrupt lines. */
export const userlandBootConfig: BootConfig = {
  rootCNodeBits: 10,
  memory: [{ base: 0x2000_0000, size: 0x40_0000, isDevice: false }],
  numIRQs: 16,
  numDomains: 1,
}

/** Where the root task's image sits (the boot thread starts there). */
export const rootImage = 0x000f_0000

export interface SystemOptions {
  readonly clients?: number
  readonly policy?: RestartPolicy
  /** Run the impl in lockstep with the spec, checking refinement and every invariant after every step. */
  readonly lockstep?: boolean
  readonly injector?: Injector
  /** Planted bugs, for the negative tests. */
  readonly bugs?: SystemSpec["bugs"] & ServerBugs & Pick<SupervisorOptions, "noWatchdog" | "noRestart">
  /** Cycles between kernel timer ticks, and the periods of the timer device and the watchdog. */
  readonly tickEvery?: number
  readonly timerPeriod?: number
  readonly watchdogPeriod?: number
  readonly traceLimit?: number
  /** Another client program (the protocol tests' hostile clients). */
  readonly clientProgram?: (ctx: StartContext) => Program
  /** With `lockstep`: the implementation checked against the spec (default the real impl; the tests plant a mutant). */
  readonly lockstepImpl?: ImplUnderTest<unknown>
}

/** Boot the system: the root task is the current thread, the servers not yet built. */
export const bootSystem = (o: SystemOptions = {}): Runtime => {
  const clients = o.clients ?? 3
  const policy = o.policy ?? defaultPolicy
  const spec: SystemSpec = { config: userlandBootConfig, clients, policy, bugs: o.bugs ?? {} }
  const images = new Map<number, (ctx: StartContext) => Program>([
    [rootImage, rootTask(spec)],
    [Image.supervisor, supervisor({ policy, argOf: () => clients, noWatchdog: o.bugs?.noWatchdog ?? false, noRestart: o.bugs?.noRestart ?? false })],
    [Image.timerDriver, timerDriver],
    [Image.timerVirt, timerVirt],
    [Image.nameServer, nameServer(o.bugs ?? {})],
    [Image.fileServer, fileServer(o.bugs ?? {})],
    [Image.client, o.clientProgram ?? client],
  ])
  const machine: Machine = o.lockstep === true ? lockstepMachine(userlandBootConfig, 32, o.lockstepImpl) : implMachine(userlandBootConfig)
  return new Runtime(machine, images, rootImage, {
    tickEvery: o.tickEvery ?? 50,
    devices: [{ irq: Irq.timer, period: o.timerPeriod ?? 300 }, { irq: Irq.watchdog, period: o.watchdogPeriod ?? 1500 }],
    ...(o.injector !== undefined ? { injector: o.injector } : {}),
    traceLimit: o.traceLimit ?? 20_000,
  })
}

