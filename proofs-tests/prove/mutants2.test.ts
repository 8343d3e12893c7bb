/** kspec prove catches every planted mutant: the second half of the list in mutantDepths.ts (mutants.test.ts runs the other). */
import { mutantSuite } from "./mutantDepths.ts"

mutantSuite(1)
