import type { Digested } from '../shared/digest.js';
import type { TgFile } from './types.js';

/** What kind of media a file was stored as; part of its `file_id`, like Telegram's. */
export type FileKind = 'photo' | 'video' | 'document' | 'animation' | 'audio' | 'voice';

/** A file Telegram knows about, and its bytes when they are kept. */
export interface StoredFile extends TgFile {
  file_size: number;
  file_path: string;
  kind: FileKind;
  sha256: string;
  md5: string;
  mime_type?: string;
  file_name?: string;
  width?: number;
  height?: number;
  duration?: number;
  bytes?: Buffer;
}

/** Properties of a new file besides its content. */
export interface FileMeta {
  kind: FileKind;
  mime_type?: string;
  file_name?: string;
  width?: number;
  height?: number;
  duration?: number;
}

const ID_PREFIX: Record<FileKind, string> = {
  photo: 'AgACAgIAAxkBAAI',
  video: 'BAACAgIAAxkBAAI',
  document: 'BQACAgIAAxkBAAI',
  animation: 'CgACAgIAAxkBAAI',
  audio: 'CQACAgIAAxkBAAI',
  voice: 'AwACAgIAAxkBAAI',
};
const DIR: Record<FileKind, string> = {
  photo: 'photos',
  video: 'videos',
  document: 'documents',
  animation: 'animations',
  audio: 'music',
  voice: 'voice',
};
const EXT: Record<FileKind, string> = {
  photo: 'jpg',
  video: 'mp4',
  document: 'dat',
  animation: 'mp4',
  audio: 'mp3',
  voice: 'oga',
};

/**
 * Content-addressed file storage: the same bytes stored as the same kind get the
 * same `file_id`, so a `file_id` returned once can be sent again. Bytes are kept
 * up to a total budget; past it only metadata is kept (downloads then 404).
 */
export class FileStore {
  private readonly byFileId = new Map<string, StoredFile>();
  private readonly byFilePath = new Map<string, StoredFile>();
  private keptBytes = 0;
  private counter = 0;

  constructor(private readonly maxKeptBytes: number) {}

  put(content: Digested, meta: FileMeta): StoredFile {
    const hash = Buffer.from(content.sha256, 'hex');
    const fileId = ID_PREFIX[meta.kind] + hash.subarray(0, 30).toString('base64url');
    const existing = this.byFileId.get(fileId);
    if (existing) {
      if (!existing.bytes && content.bytes && this.reserve(content.bytes.length)) existing.bytes = content.bytes;
      return existing;
    }
    const ext = meta.file_name?.match(/\.([A-Za-z0-9]{1,5})$/)?.[1]?.toLowerCase() ?? EXT[meta.kind];
    const file: StoredFile = {
      file_id: fileId,
      file_unique_id: 'AQAD' + hash.subarray(0, 9).toString('base64url'),
      file_size: content.size,
      file_path: `${DIR[meta.kind]}/file_${this.counter++}.${ext}`,
      sha256: content.sha256,
      md5: content.md5,
      ...meta,
    };
    if (content.bytes && this.reserve(content.bytes.length)) file.bytes = content.bytes;
    this.byFileId.set(file.file_id, file);
    this.byFilePath.set(file.file_path, file);
    return file;
  }

  byId(fileId: string): StoredFile | undefined {
    return this.byFileId.get(fileId);
  }

  byPath(filePath: string): StoredFile | undefined {
    return this.byFilePath.get(filePath);
  }

  get size(): number {
    return this.byFileId.size;
  }

  private reserve(n: number): boolean {
    if (this.keptBytes + n > this.maxKeptBytes) return false;
    this.keptBytes += n;
    return true;
  }
}

/** The `File` object `getFile` answers with. */
export function toTgFile(file: StoredFile): TgFile {
  return { file_id: file.file_id, file_unique_id: file.file_unique_id, file_size: file.file_size, file_path: file.file_path };
}
