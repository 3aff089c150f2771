import { SEARCH_ATTRIBUTES, cliSearchAttributeType } from '../../src/temporal/search-attributes.js';

/**
 * Dynamic config the dev server is started with (`npm run dev`, tests,
 * benchmarks); `temporal-config/dynamicconfig.yaml` holds the same for a real
 * server. See that file for why.
 */
export const DEV_SERVER_DYNAMIC_CONFIG: Record<string, string> = {
  'system.enableActivityEagerExecution': 'true',
  'history.transferProcessorMaxPollRPS': '1000',
  // One node: partitions only forward between themselves (temporal-config/dynamicconfig.yaml).
  'matching.numTaskqueueReadPartitions': '1',
  'matching.numTaskqueueWritePartitions': '1',
  // Worker Versioning (src/temporal/worker/deployment.ts).
  'system.enableDeploymentVersions': 'true',
};

/** `--search-attribute Name=Type` for every custom search attribute (see `search-attributes.ts`). */
export function searchAttributeArgs(): string[] {
  return SEARCH_ATTRIBUTES.flatMap((key) => ['--search-attribute', `${key.name}=${cliSearchAttributeType(key)}`]);
}

/** As `temporal server start-dev` arguments: the dynamic config and Telewan's search attributes. */
export function devServerArgs(): string[] {
  return [
    ...Object.entries(DEV_SERVER_DYNAMIC_CONFIG).flatMap(([key, value]) => ['--dynamic-config-value', `${key}=${value}`]),
    ...searchAttributeArgs(),
  ];
}
