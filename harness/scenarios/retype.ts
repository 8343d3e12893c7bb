/**
 * The scenarios' way to make an object: one of `type` (of 2^`sizeBits` bytes where the type's size
 * varies) from the default boot's first untyped into free root CNode slot `destSlot`.
 */
import type { Event } from "../../model/index.ts"
import { InitialSlot, defaultBootConfig } from "../../model/index.ts"
import { bootInfo } from "../../spec/kernel/boot.ts"
import { seL4_Untyped_Retype } from "../builders.ts"

export const retypeOne = (type: number, sizeBits: number, destSlot: number): Event =>
  seL4_Untyped_Retype(bootInfo(defaultBootConfig).untyped.start, type, sizeBits, InitialSlot.InitThreadCNode, 0, 0, destSlot, 1)
