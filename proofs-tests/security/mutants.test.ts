// Security mutants of authority confinement and integrity (proofs-tests/security/mutantSuite.ts).
import { describeSecurityMutants } from "./mutantSuite.ts"

describeSecurityMutants(["pas_refined", "integrity"])
