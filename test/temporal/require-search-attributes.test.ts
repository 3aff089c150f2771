import { describe, expect, it } from 'vitest';
import { MissingSearchAttributesError, requireSearchAttributes } from '../../src/temporal/worker/require-search-attributes.js';

const operator = (customAttributes: Record<string, number> | Error) => ({
  async listSearchAttributes() {
    if (customAttributes instanceof Error) throw customAttributes;
    return { customAttributes } as never;
  },
});

describe('requireSearchAttributes', () => {
  it('passes when every Telewan search attribute is registered', async () => {
    await expect(requireSearchAttributes(operator({ TelewanChatId: 3, TelewanKind: 2, TelewanSourceSlug: 2, TelewanOutcome: 2, Other: 2 }), 'default')).resolves.toBeUndefined();
  });

  it('names the missing ones and how to register them', async () => {
    const err = await requireSearchAttributes(operator({ TelewanKind: 2, TelewanSourceSlug: 2 }), 'prod').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingSearchAttributesError);
    expect((err as MissingSearchAttributesError).missing).toEqual(['TelewanChatId', 'TelewanOutcome']);
    expect((err as Error).message).toContain('temporal operator search-attribute create --namespace prod --name TelewanChatId --type Int');
    expect((err as Error).message).toContain('--name TelewanOutcome --type Keyword');
  });

  it('does not stop the worker when the server will not list them', async () => {
    await expect(requireSearchAttributes(operator(new Error('PermissionDenied')), 'default')).resolves.toBeUndefined();
  });
});
