/**
 * Ready-made boot configurations beyond the default one (model/config.ts `defaultBootConfig`),
 * for tests, campaigns and users' own suites.
 * @category library
 */
import type { BootConfig } from "../model/index.ts"
import { defaultBootConfig } from "../model/index.ts"

/**
 * Three scheduling domains under a static schedule of uneven lengths in which domain 2 runs twice
 * a round: domain 0 for 4 ticks, domain 2 for 1, domain 1 for 3, domain 2 for 2, then round again
 * (10 ticks a round). The root thread starts in domain 0; the schedule table has 8 entries, so
 * DomainSet_ScheduleConfigure can grow the round by three.
 */
export const domainsBootConfig: BootConfig = {
  ...defaultBootConfig,
  numDomains: 3,
  domainSchedule: [
    { domain: 0, length: 4 },
    { domain: 2, length: 1 },
    { domain: 1, length: 3 },
    { domain: 2, length: 2 },
  ],
  numDomainSchedules: 8,
}
