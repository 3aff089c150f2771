import { SEARCH_ATTRIBUTES, cliSearchAttributeType } from '../search-attributes.js';

/** The server lacks search attributes Telewan's workflows set: starting and closing workflows would fail. */
export class MissingSearchAttributesError extends Error {
  constructor(readonly missing: string[], namespace: string) {
    const commands = SEARCH_ATTRIBUTES.filter((key) => missing.includes(key.name)).map(
      (key) => `temporal operator search-attribute create --namespace ${namespace} --name ${key.name} --type ${cliSearchAttributeType(key)}`,
    );
    super(`Temporal namespace "${namespace}" lacks the search attributes ${missing.join(', ')}; register them:\n  ${commands.join('\n  ')}`);
    this.name = 'MissingSearchAttributesError';
  }
}

/** The part of Temporal's operator service this needs. */
interface OperatorService {
  listSearchAttributes(request: { namespace: string }): Promise<{ customAttributes?: Record<string, unknown> | null }>;
}

/**
 * Throws {@link MissingSearchAttributesError} when the namespace lacks any of
 * Telewan's search attributes, so a worker stops at boot with the fix instead
 * of every workflow failing its tasks. A server that does not let us list them
 * is given the benefit of the doubt.
 */
export async function requireSearchAttributes(operator: OperatorService, namespace: string): Promise<void> {
  let known: string[];
  try {
    const res = await operator.listSearchAttributes({ namespace });
    known = Object.keys(res.customAttributes ?? {});
  } catch {
    return;
  }
  const missing = SEARCH_ATTRIBUTES.map((key) => key.name).filter((name) => !known.includes(name));
  if (missing.length > 0) throw new MissingSearchAttributesError(missing, namespace);
}
