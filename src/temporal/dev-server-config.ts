/**
 * Dynamic config the dev server is started with (`npm run dev`, tests,
 * benchmarks); `temporal-config/dynamicconfig.yaml` holds the same for a real
 * server. See that file for why.
 */
export const DEV_SERVER_DYNAMIC_CONFIG: Record<string, string> = {
  'system.enableActivityEagerExecution': 'true',
  'history.transferProcessorMaxPollRPS': '1000',
};

/** As `temporal server start-dev` arguments. */
export function devServerArgs(): string[] {
  return Object.entries(DEV_SERVER_DYNAMIC_CONFIG).flatMap(([key, value]) => ['--dynamic-config-value', `${key}=${value}`]);
}
