import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { METADATA_ENCODING_KEY, type DataConverter, type Payload, type PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';

/** `encoding` metadata of a payload this codec encrypted. */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
/** Metadata naming the key that encrypted a payload, so keys can rotate. */
export const KEY_ID_METADATA = 'encryption-key-id';

// CommonJS: Node's ESM loader sees only its default export.
const ProtoPayload = proto.temporal.api.common.v1.Payload;
const CIPHER = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
/** IVs drawn from the CSPRNG at a time: one call per 1,024 payloads rather than one per payload. */
const IV_POOL_BYTES = IV_BYTES * 1024;

const utf8 = (value: string): Uint8Array => Buffer.from(value, 'utf8');
const text = (bytes: Uint8Array | null | undefined): string | undefined => (bytes ? Buffer.from(bytes).toString('utf8') : undefined);

export interface EncryptionKey {
  /** Short name stored beside every payload it encrypts, e.g. `k2` or `2026-11`. */
  id: string;
  /** 32 bytes (AES-256). */
  key: Buffer;
}

/** A payload could not be decrypted: unknown key id, or data that is not what that key encrypted. */
export class PayloadDecryptionError extends Error {
  constructor(
    message: string,
    readonly keyId: string | undefined,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'PayloadDecryptionError';
  }
}

/**
 * Encrypts every payload with AES-256-GCM under the active (first) key, a fresh
 * 12-byte IV each time. The whole payload (its metadata too, so not even the
 * original encoding shows) is serialised and sealed; the key id travels in the
 * clear metadata and is bound to the ciphertext as associated data.
 *
 * Decoding picks the key the payload names, so payloads written before a
 * rotation still decode while any older key is kept in the list. Payloads that
 * are not `binary/encrypted` (histories written before encryption) pass through.
 */
export class EncryptionCodec implements PayloadCodec {
  private readonly active: { id: string; key: KeyObject; aad: Buffer };
  // KeyObjects made once: given a Buffer, every createCipheriv would make one
  // (about three quarters of an encryption's CPU).
  private readonly keys: ReadonlyMap<string, KeyObject>;
  private ivPool = Buffer.alloc(0);
  private ivOffset = 0;

  constructor(keys: readonly EncryptionKey[]) {
    const [active] = keys;
    if (!active) throw new Error('EncryptionCodec needs at least one key');
    for (const k of keys) {
      if (k.key.length !== KEY_BYTES) throw new Error(`Encryption key "${k.id}" is ${k.key.length} bytes; AES-256 needs ${KEY_BYTES}`);
    }
    this.keys = new Map(keys.map((k) => [k.id, createSecretKey(k.key)]));
    this.active = { id: active.id, key: this.keys.get(active.id)!, aad: Buffer.from(utf8(active.id)) };
  }

  /** Id of the key new payloads are encrypted with. */
  get activeKeyId(): string {
    return this.active.id;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.encrypt(payload));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.decrypt(payload));
  }

  private encrypt(payload: Payload): Payload {
    const { id, key, aad } = this.active;
    const iv = this.nextIv();
    const cipher = createCipheriv(CIPHER, key, iv);
    cipher.setAAD(aad);
    const plain = ProtoPayload.encode(payload).finish();
    const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return { metadata: { [METADATA_ENCODING_KEY]: utf8(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8(id) }, data: sealed };
  }

  /** A fresh random IV: the next 12 bytes of a pool of CSPRNG output, never handed out twice. */
  private nextIv(): Buffer {
    if (this.ivOffset + IV_BYTES > this.ivPool.length) {
      // A new buffer, not a refill: IVs already handed out are views of the old one.
      this.ivPool = randomBytes(IV_POOL_BYTES);
      this.ivOffset = 0;
    }
    const iv = this.ivPool.subarray(this.ivOffset, this.ivOffset + IV_BYTES);
    this.ivOffset += IV_BYTES;
    return iv;
  }

  private decrypt(payload: Payload): Payload {
    if (text(payload.metadata?.[METADATA_ENCODING_KEY]) !== ENCRYPTED_ENCODING) return payload;
    const id = text(payload.metadata?.[KEY_ID_METADATA]);
    if (id === undefined) throw new PayloadDecryptionError(`Encrypted payload names no key (no "${KEY_ID_METADATA}" metadata)`, undefined);
    const key = this.keys.get(id);
    if (!key) {
      throw new PayloadDecryptionError(
        `Payload was encrypted with key "${id}", which is not configured (known: ${[...this.keys.keys()].join(', ')}); add it to PAYLOAD_ENCRYPTION_KEYS after the active key`,
        id,
      );
    }
    const data = Buffer.from(payload.data ?? []);
    if (data.length < IV_BYTES + TAG_BYTES) throw new PayloadDecryptionError(`Encrypted payload (key "${id}") is too short to be one`, id);
    try {
      const decipher = createDecipheriv(CIPHER, key, data.subarray(0, IV_BYTES));
      decipher.setAAD(utf8(id));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      const plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
      return ProtoPayload.decode(plain);
    } catch (err) {
      throw new PayloadDecryptionError(`Encrypted payload (key "${id}") failed authentication: it was altered, or key "${id}" is not the key that wrote it`, id, {
        cause: err,
      });
    }
  }
}

/**
 * Parses `id:<base64 of 32 bytes>` entries separated by commas, the first being
 * the active key. Throws an Error whose message says what is wrong with which
 * entry (never the key material).
 */
export function parseEncryptionKeys(value: string): EncryptionKey[] {
  const entries = value
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  if (entries.length === 0) throw new Error('lists no key (expected "<id>:<base64 of 32 bytes>", comma-separated, active key first)');
  const keys: EncryptionKey[] = [];
  for (const [i, entry] of entries.entries()) {
    const colon = entry.indexOf(':');
    const id = colon > 0 ? entry.slice(0, colon) : '';
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(id)) throw new Error(`entry ${i + 1} has no valid key id (expected "<id>:<base64>", id of A-Z, a-z, 0-9, ".", "_", "-")`);
    const material = entry.slice(colon + 1);
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(material)) throw new Error(`key "${id}" is not base64`);
    const key = Buffer.from(material, 'base64');
    if (key.length !== KEY_BYTES) throw new Error(`key "${id}" is ${key.length} bytes; it must be ${KEY_BYTES} (e.g. \`openssl rand -base64 32\`)`);
    if (keys.some((k) => k.id === id)) throw new Error(`key id "${id}" appears twice`);
    keys.push({ id, key });
  }
  return keys;
}

/** The inverse of {@link parseEncryptionKeys}, for handing keys to a child process. */
export function formatEncryptionKeys(keys: readonly EncryptionKey[]): string {
  return keys.map((k) => `${k.id}:${k.key.toString('base64')}`).join(',');
}

/** A new random key as a `PAYLOAD_ENCRYPTION_KEYS` entry. */
export function generateEncryptionKeyEntry(id: string): string {
  return `${id}:${randomBytes(KEY_BYTES).toString('base64')}`;
}

/**
 * The module with Telewan's failure converter (failure messages and stack traces
 * encoded, so encrypted): for `bundleWorkflowCode({ failureConverterPath })` and
 * the data converter. The source when running from source, else the compiled file.
 */
export function failureConverterPath(): string {
  const ts = fileURLToPath(new URL('./failure-converter.ts', import.meta.url));
  return existsSync(ts) ? ts : fileURLToPath(new URL('./failure-converter.js', import.meta.url));
}

/**
 * The data converter every Temporal client, worker and replayer of Telewan uses:
 * payloads encrypted by an {@link EncryptionCodec}, failure messages moved into
 * encrypted attributes. Workers must run a bundle built with the same
 * {@link failureConverterPath}.
 */
export function encryptedDataConverter(keysOrCodec: readonly EncryptionKey[] | EncryptionCodec): DataConverter {
  const codec = keysOrCodec instanceof EncryptionCodec ? keysOrCodec : new EncryptionCodec(keysOrCodec);
  return { payloadCodecs: [codec], failureConverterPath: failureConverterPath() };
}
