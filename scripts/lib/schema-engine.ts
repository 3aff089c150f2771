import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import type {
  SqlDriverAdapter,
  SqlMigrationAwareDriverAdapterFactory,
} from '@prisma/driver-adapter-utils';
import type { SchemaEngine } from '@prisma/schema-engine-wasm/schema_engine_bg';
import pg from 'pg';
import { type PgTarget, poolConfig } from './postgres.js';

export type { SchemaEngine };

// eslint-disable-next-line @typescript-eslint/consistent-type-imports -- the glue module is only loaded at run time
type Glue = typeof import('@prisma/schema-engine-wasm/schema_engine_bg');

const require = createRequire(import.meta.url);

// Node has WebAssembly; @types/node 20 does not declare it (lib.dom does).
declare const WebAssembly: {
  instantiate(
    bytes: Uint8Array,
    imports: Record<string, Record<string, unknown>>,
  ): Promise<{ instance: { exports: Record<string, unknown> } }>;
};

// Timers the engine started. The WASM build arms a 10 s timer it never clears;
// they are unref'd so they cannot keep a process alive, and cleared once no
// engine is running so that nothing calls into a freed engine later.
const engineTimers = new Set<NodeJS.Timeout>();
let runningEngines = 0;

let glue: Promise<Glue> | undefined;

/**
 * Loads Prisma's schema engine compiled to WebAssembly, once per process.
 * The package's entry does `import * as wasm from "./x.wasm"`, which Node 20
 * cannot import, so the module is instantiated here with the package's own
 * JS glue as its imports.
 */
export function loadSchemaEngine(): Promise<Glue> {
  glue ??= instantiate().catch((error: unknown) => {
    glue = undefined;
    throw error;
  });
  return glue;
}

async function instantiate(): Promise<Glue> {
  const module: Glue = await import('@prisma/schema-engine-wasm/schema_engine_bg');
  const entry = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg');
  const bytes = await readFile(path.join(path.dirname(entry), 'schema_engine_bg.wasm'));
  const imports: Record<string, unknown> = { ...module };
  for (const [name, fn] of Object.entries(module)) {
    if (!name.startsWith('__wbg_setTimeout_') || typeof fn !== 'function') continue;
    imports[name] = (...args: unknown[]) => {
      const timer = (fn as (...a: unknown[]) => NodeJS.Timeout)(...args);
      timer.unref();
      engineTimers.add(timer);
      return timer;
    };
  }
  const { instance } = await WebAssembly.instantiate(bytes, { './schema_engine_bg.js': imports });
  const exports = instance.exports as { __wbindgen_start(): void };
  module.__wbg_set_wasm(exports);
  exports.__wbindgen_start();
  return module;
}

/**
 * A pg client that reports PostgreSQL's one-byte `"char"` type (OID 18) as text.
 * The schema describer selects such catalog columns (`relkind`, `contype`, ...),
 * and adapter-pg refuses them ("Column type 'char' could not be deserialized").
 * Only the engine's own pools use it; pg already hands the values over as strings.
 */
class CharAsTextClient extends pg.Client {
  // pg.Client#query has a dozen overloads; `any` is the one return type that fits them all.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override query(config: unknown, values?: unknown, callback?: unknown): any {
    if (typeof values === 'function') {
      callback = values;
      values = undefined;
    }
    const query = (super.query as (...args: unknown[]) => unknown).bind(this);
    if (typeof (config as { submit?: unknown } | null)?.submit === 'function') {
      return query(config, values, callback);
    }
    if (typeof callback === 'function') {
      const done = callback as (err: Error | null, res: unknown) => void;
      return query(config, values, (err: Error | null, res: unknown) => done(err, err ? res : charAsText(res)));
    }
    const result = query(config, values);
    return result instanceof Promise ? result.then(charAsText) : result;
  }
}

function charAsText<T>(result: T): T {
  for (const r of Array.isArray(result) ? result : [result]) {
    for (const field of (r as pg.QueryResult | undefined)?.fields ?? []) {
      if (field.dataTypeID === 18) field.dataTypeID = 25;
    }
  }
  return result;
}

/**
 * The adapter factory handed to the engine. It differs from a plain `PrismaPg`
 * in three ways, each fixing a problem found with the WASM engine:
 * - every pool gets discrete connection fields, `"char"`-as-text clients and
 *   `allowExitOnIdle`, and is ended by `close()`, whatever the engine does;
 * - the shadow database is one the caller created (PrismaPg's own drops the
 *   database before closing its pool, which fails after 5 s and leaks it);
 * - a script is sent to the server whole, in one simple query, as the native
 *   engine does, instead of being split at every `;` (which breaks `$$` bodies).
 */
class EngineAdapterFactory implements SqlMigrationAwareDriverAdapterFactory {
  readonly provider = 'postgres';
  readonly adapterName = '@prisma/adapter-pg';
  private readonly pools = new Set<pg.Pool>();

  constructor(
    private readonly main: PgTarget,
    private readonly shadowDatabase: string | undefined,
  ) {}

  connect(): Promise<SqlDriverAdapter> {
    return this.open(this.main.database);
  }

  connectToShadowDb(): Promise<SqlDriverAdapter> {
    if (!this.shadowDatabase) {
      return Promise.reject(new Error('this operation was not given a shadow database'));
    }
    return this.open(this.shadowDatabase);
  }

  async close(): Promise<void> {
    const pools = [...this.pools];
    this.pools.clear();
    await Promise.allSettled(pools.map((pool) => pool.end()));
  }

  private async open(database: string): Promise<SqlDriverAdapter> {
    const pool = new pg.Pool({ ...poolConfig(this.main, database), Client: CharAsTextClient });
    pool.on('error', () => {
      // An idle client lost its connection; the next query reports it.
    });
    this.pools.add(pool);
    const adapter = await new PrismaPg(pool, { schema: this.main.schema }).connect();
    adapter.executeScript = async (script: string) => {
      await adapter.executeRaw({ sql: script, args: [], argTypes: [] });
    };
    return adapter;
  }
}

export interface EngineOptions {
  /** The database the engine treats as its main one. */
  target: PgTarget;
  /** An existing, empty database the engine may use as its shadow. */
  shadowDatabase?: string;
  /** Absolute path and text of `schema.prisma`. */
  schema: { path: string; content: string };
  /** Receives the engine's own log lines (JSON), for debugging. */
  onEngineLog?: (line: string) => void;
}

/**
 * Runs `fn` with a fresh schema engine and frees the engine and every pool it
 * opened afterwards, whether `fn` succeeds or not.
 */
export async function withSchemaEngine<T>(
  options: EngineOptions,
  fn: (engine: SchemaEngine) => Promise<T>,
): Promise<T> {
  const { SchemaEngine } = await loadSchemaEngine();
  const factory = new EngineAdapterFactory(options.target, options.shadowDatabase);
  runningEngines++;
  try {
    const engine = await SchemaEngine.new(
      { datamodels: [[options.schema.path, options.schema.content]] },
      (line: string) => options.onEngineLog?.(line),
      bindMigrationAwareSqlAdapterFactory(factory),
    );
    try {
      return await fn(engine);
    } finally {
      engine.free();
    }
  } catch (error) {
    throw toEngineError(error);
  } finally {
    await factory.close();
    if (--runningEngines === 0) {
      for (const timer of engineTimers) clearTimeout(timer);
      engineTimers.clear();
    }
  }
}

/**
 * A failure reported by the schema engine, e.g. P3009 (a recorded migration
 * failed: fix the database, then mark it rolled back) or P3018 (a migration's
 * SQL failed). The message is the engine's, which says what to do.
 */
export class SchemaEngineError extends Error {
  /** Prisma's error code (`P3009`), when the engine gave one. */
  readonly code: string | undefined;
  /** The engine's error class, e.g. `SchemaConnectorError`. */
  readonly kind: string;

  constructor(message: string, code: string | undefined, kind: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SchemaEngineError';
    this.code = code;
    this.kind = kind;
  }
}

function toEngineError(error: unknown): Error {
  if (error instanceof SchemaEngineError) return error;
  const e = (error ?? {}) as { message?: unknown; code?: unknown; name?: unknown };
  const message = typeof e.message === 'string' ? e.message : String(error);
  const code = typeof e.code === 'string' ? e.code : undefined;
  const kind = typeof e.name === 'string' ? e.name : 'Error';
  return new SchemaEngineError(message, code, kind, { cause: error });
}
