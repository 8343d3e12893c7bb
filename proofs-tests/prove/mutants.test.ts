/** kspec prove catches every planted mutant: the first half of the list in mutantDepths.ts (mutants2.test.ts runs the other). */
import { mutantSuite } from "./mutantDepths.ts"

mutantSuite(0)
