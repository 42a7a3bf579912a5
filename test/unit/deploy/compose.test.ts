import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { assertDaemonConfig, describeOptions, ENV_ALIASES, loadConfig } from '../../../src/app/config';
import {
  dependsOn,
  interpolate,
  interpolatedNames,
  mountsOf,
  onlyInterpolations,
  parseDockerfile,
  parseDotenv,
  readCompose,
  readProjectFile,
  SECRET_NAME,
  serviceEnv,
  type ComposeFile,
} from './deploy-files';

const FULL = 'docker-compose.yml';
const CONNECTOR_ONLY = 'docker-compose.connector.yml';
const FILES = [FULL, CONNECTOR_ONLY];
const CONNECTOR = 'connector-security-coverage';
/** Variables every connector service must set (the brief's list; the rest come from the defaults). */
const REQUIRED_CONNECTOR_ENV = ['OPENCTI_URL', 'OPENCTI_TOKEN', 'CONNECTOR_ID', 'CONNECTOR_NAME', 'CONNECTOR_SCOPE', 'CONNECTOR_AUTO', 'CONNECTOR_LOG_LEVEL', 'COVERAGE_RULES_DIRS'];
/** Env the image understands besides the config options. */
const NON_OPTION_ENV = new Set(['CONFIG_FILE', 'NODE_OPTIONS', 'NODE_ENV', 'HEALTHCHECK_TIMEOUT_MS']);

const compose: Record<string, ComposeFile> = Object.fromEntries(FILES.map((f) => [f, readCompose(f)]));
const sample = parseDotenv(readProjectFile('.env.sample'));
const CONNECTOR_ID_VAR = /^CONNECTOR_.*_ID$/;
/** .env.sample as a user fills it in: each connector id placeholder replaced by `uuidgen` output. */
const dotenv = Object.fromEntries(Object.entries(sample).map(([k, v]) => [k, CONNECTOR_ID_VAR.test(k) ? randomUUID() : v]));

function toSeconds(duration: string): number {
  const m = /^(\d+)(ms|s|m|h)?$/.exec(duration.trim());
  if (!m) throw new Error(`unparsable duration ${duration}`);
  const n = Number(m[1]);
  return m[2] === 'ms' ? n / 1000 : m[2] === 'm' ? n * 60 : m[2] === 'h' ? n * 3600 : n;
}

/** The connector service's environment after compose substitutes .env.sample into it. */
function connectorEnv(file: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(serviceEnv(compose[file].services[CONNECTOR]))) env[k] = interpolate(v, dotenv);
  return env;
}

/** The connector's configuration as `run` would load it in that container (no config.yml). */
function connectorConfig(file: string) {
  const dir = mkdtempSync(join(tmpdir(), 'compose-config-'));
  try {
    const emptyFile = join(dir, 'config.yml');
    writeFileSync(emptyFile, '');
    return loadConfig({ env: connectorEnv(file), file: emptyFile });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.each(FILES)('%s', (file) => {
  const { services } = compose[file];
  // Compose interpolates values, not comments: scan the parsed document.
  const text = JSON.stringify(compose[file]);

  it('pins every image to an explicit tag, never latest', () => {
    for (const [name, service] of Object.entries(services)) {
      expect(service.image).toBeDefined();
      const image = service.image as string;
      const tag = image.slice(image.lastIndexOf('/') + 1).split(':')[1];
      expect({ name, tag }).toEqual({ name, tag: expect.stringMatching(/\d/) });
      expect(tag).not.toMatch(/latest/i);
    }
  });

  it('gives every stateful service and the connector a healthcheck', () => {
    for (const [name, service] of Object.entries(services)) {
      const stateful = mountsOf(service).some((m) => m.type === 'volume') || name === CONNECTOR || name === 'opencti';
      if (!stateful) continue;
      const test = service.healthcheck?.test;
      expect({ name, test: Array.isArray(test) ? test.join(' ') : test }).toEqual({ name, test: expect.stringMatching(/\S/) });
      expect(service.healthcheck?.disable).not.toBe(true);
    }
  });

  it('starts each service only once its dependencies are healthy', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [dep, spec] of Object.entries(dependsOn(service))) {
        expect({ name, dep, condition: spec.condition }).toEqual({ name, dep, condition: 'service_healthy' });
        expect(services[dep]?.healthcheck?.test).toBeDefined();
      }
    }
    const connectorDeps = Object.keys(dependsOn(services[CONNECTOR]));
    expect(connectorDeps).toContain('rabbitmq');
    if (file === FULL) expect(connectorDeps).toContain('opencti');
  });

  it('declares every named volume and config it mounts, and mounts every declared volume', () => {
    const declared = new Set(Object.keys(compose[file].volumes ?? {}));
    const used = new Set<string>();
    for (const service of Object.values(services)) {
      for (const m of mountsOf(service)) if (m.type === 'volume') used.add(m.source);
      for (const c of (service.configs ?? []) as Array<string | { source: string }>) {
        expect(Object.keys(compose[file].configs ?? {})).toContain(typeof c === 'string' ? c : c.source);
      }
    }
    expect([...used].sort()).toEqual([...declared].sort());
  });

  it('lists every ${VAR} it uses in .env.sample', () => {
    const missing = [...interpolatedNames(text)].filter((v) => !(v in dotenv));
    expect(missing).toEqual([]);
  });

  it('writes no secret literally: credentials are only ${VAR} references to .env', () => {
    const secretOptions = new Set(describeOptions().filter((o) => o.secret).map((o) => o.env));
    for (const [name, service] of Object.entries(services)) {
      for (const [key, value] of Object.entries(serviceEnv(service))) {
        if (!SECRET_NAME.test(key) && !secretOptions.has(key)) continue;
        expect({ name, key, literal: !onlyInterpolations(value) }).toEqual({ name, key, literal: false });
      }
    }
    // and no placeholder value of a secret from .env.sample was pasted into a service (comments aside)
    for (const [key, value] of Object.entries(dotenv)) {
      if (SECRET_NAME.test(key) && value.length >= 6) expect({ key, pasted: text.includes(value) }).toEqual({ key, pasted: false });
    }
  });

  describe('connector service', () => {
    const service = services[CONNECTOR];
    const env = serviceEnv(service);

    it('sets every variable the connector requires, with scope security-coverage', () => {
      for (const name of REQUIRED_CONNECTOR_ENV) expect({ name, set: name in env }).toEqual({ name, set: true });
      expect(env.CONNECTOR_SCOPE).toBe('security-coverage');
    });

    it('uses only environment variables the connector knows (a typo would be silently ignored)', () => {
      const known = new Set([...describeOptions().map((o) => o.env), ...Object.keys(ENV_ALIASES), ...NON_OPTION_ENV]);
      expect(Object.keys(env).filter((k) => !known.has(k))).toEqual([]);
    });

    it('yields a configuration `run` accepts once .env.sample is substituted', () => {
      const config = connectorConfig(file);
      expect(() => assertDaemonConfig(config)).not.toThrow();
      expect(config.connector.scope).toEqual(['security-coverage']);
      expect(config.connector.auto).toBe(true);
      expect(config.coverage.rules_dirs.length).toBeGreaterThan(0);
    });

    it('reads rules and inventories from a read-only mount and writes state to a named volume', () => {
      const config = connectorConfig(file);
      const mounts = mountsOf(service);
      const inside = (path: string, ro: boolean) =>
        mounts.some((m) => m.readOnly === ro && (path === m.target || path.startsWith(`${m.target}/`)));
      const inputs = [...config.coverage.rules_dirs, config.coverage.controls_file, config.coverage.data_sources_file, config.coverage.validation_file];
      for (const path of inputs.filter((p): p is string => !!p)) expect({ path, mounted: inside(path, true) }).toEqual({ path, mounted: true });
      const state = config.scheduler.state_file as string;
      expect(state).toBeDefined();
      const stateMount = mounts.find((m) => m.target === posix.dirname(state));
      expect(stateMount).toMatchObject({ type: 'volume', readOnly: false });
    });

    it('mounts the state volume on the directory the image lets its non-root user write', () => {
      const runtime = parseDockerfile(readProjectFile('Dockerfile')).at(-1)!;
      const chowned = runtime.instructions.filter((i) => i.op === 'RUN' && /chown/.test(i.args)).map((i) => i.args).join(' ');
      const stateMount = mountsOf(service).find((m) => m.type === 'volume')!;
      expect(chowned).toContain(stateMount.target);
    });

    it('can be scaled: no fixed container name or host port', () => {
      expect(service.container_name).toBeUndefined();
      expect(service.ports ?? []).toEqual([]);
      expect(service.deploy).toBeUndefined();
    });

    it('gives in-flight jobs longer to drain than the shutdown grace before SIGKILL', () => {
      const graceMs = Number(env.WORKER_SHUTDOWN_GRACE_MS ?? describeOptions().find((o) => o.env === 'WORKER_SHUTDOWN_GRACE_MS')!.default);
      expect(toSeconds(service.stop_grace_period ?? '10s')).toBeGreaterThan(graceMs / 1000);
    });

    it('probes its health with node and the probe the image ships', () => {
      const test = service.healthcheck?.test as string[];
      expect(test[0]).toBe('CMD');
      expect(test[1]).toBe('node');
      const copied = parseDockerfile(readProjectFile('Dockerfile'))
        .at(-1)!
        .instructions.filter((i) => i.op === 'COPY')
        .map((i) => i.args);
      expect(copied.some((c) => c.endsWith(test[2].replace(/^\/app\//, './')))).toBe(true);
    });

    it('builds the image tagged with the package version', () => {
      const pkg = JSON.parse(readProjectFile('package.json')) as { version: string };
      expect(service.build).toBeDefined();
      expect(service.image).toBe(`opencti-security-coverage-connector:${pkg.version}`);
    });
  });
});

describe(FULL, () => {
  const { services } = compose[FULL];

  it('runs the complete OpenCTI stack: platform, worker, Elasticsearch, Redis, MinIO, RabbitMQ', () => {
    expect(Object.keys(services)).toEqual(expect.arrayContaining(['opencti', 'worker', 'elasticsearch', 'redis', 'minio', 'rabbitmq', CONNECTOR]));
  });

  it('pins one OpenCTI 6.8+ release (Security Coverage) for the platform, worker and connectors', () => {
    const versions = new Set(
      Object.values(services)
        .map((s) => s.image ?? '')
        .filter((i) => i.startsWith('opencti/'))
        .map((i) => i.split(':')[1]),
    );
    expect(versions.size).toBe(1);
    const [major, minor] = [...versions][0].split('.').map(Number);
    expect(major > 6 || (major === 6 && minor >= 8)).toBe(true);
  });

  it('points the connector and the platform at the same broker and platform address', () => {
    const env = serviceEnv(services[CONNECTOR]);
    const platform = serviceEnv(services.opencti);
    expect(env.OPENCTI_URL).toBe(`http://opencti:${platform.APP__PORT}`);
    expect(platform.RABBITMQ__HOSTNAME).toBe('rabbitmq');
  });
});

describe('.env.sample', () => {
  const used = new Set(FILES.flatMap((f) => [...interpolatedNames(JSON.stringify(compose[f]))]));

  it('lists only variables a compose file uses', () => {
    expect(Object.keys(dotenv).filter((k) => !used.has(k))).toEqual([]);
  });

  it('holds placeholders, not real secrets', () => {
    for (const [key, value] of Object.entries(dotenv)) {
      if (SECRET_NAME.test(key)) expect({ key, value }).toEqual({ key, value: expect.stringMatching(/^ChangeMe/) });
    }
  });

  it('ships no fixed connector id: each is a placeholder the connector refuses, naming CONNECTOR_ID', () => {
    const ids = Object.entries(sample).filter(([k]) => CONNECTOR_ID_VAR.test(k));
    expect(ids.length).toBeGreaterThanOrEqual(2);
    for (const [key, value] of ids) expect({ key, value }).toEqual({ key, value: 'ChangeMe_UUIDv4' });
    const dir = mkdtempSync(join(tmpdir(), 'compose-id-'));
    try {
      writeFileSync(join(dir, 'config.yml'), '');
      expect(() => loadConfig({ env: { CONNECTOR_ID: sample.CONNECTOR_SECURITY_COVERAGE_ID }, file: join(dir, 'config.yml') })).toThrow(/CONNECTOR_ID/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
