import type { ActivityDeps } from './deps.js';
import { createAdmissionActivities } from './admission.js';
import { withFailureMapping } from './failure.js';
import { createDistributionActivities } from './distribution.js';
import { createGenerationActivities } from './generations.js';
import { UserImages } from './images.js';
import { createResultCacheActivities } from './result-cache.js';
import { createLimitActivities } from './limits.js';
import { createPresenceActivities } from './presence.js';
import { createSubscriptionActivities } from './subscriptions.js';
import { createTelegramActivities } from './telegram.js';
import { createRepeatActivities } from './repeat.js';
import { createSettingsActivities } from './settings.js';
import { createUserActivities } from './users.js';
import { createWavespeedActivities } from './wavespeed.js';

export type { ActivityDeps } from './deps.js';

/**
 * Every activity Telewan registers, bound to its dependencies. Errors leave
 * through {@link withFailureMapping}, so workflows see named failure types.
 */
export function createActivities(deps: ActivityDeps) {
  // Shared by fingerprintImage and prepareImage, so one request decodes its photo once per worker.
  const images = new UserImages(deps.telegram);
  return withFailureMapping({
    ...createUserActivities(deps),
    ...createSettingsActivities(deps),
    ...createRepeatActivities(deps),
    ...createGenerationActivities(deps),
    ...createLimitActivities(deps),
    ...createSubscriptionActivities(deps),
    ...createTelegramActivities(deps),
    ...createPresenceActivities(deps),
    ...createWavespeedActivities({ ...deps, images }),
    ...createDistributionActivities(deps),
    ...createResultCacheActivities({ ...deps, images }),
    ...createAdmissionActivities(deps),
  });
}

export type Activities = ReturnType<typeof createActivities>;
