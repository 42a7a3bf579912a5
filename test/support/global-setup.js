// Finds the broker once for the whole run. Tests read AMQP_URL and BROKER_AVAILABLE; REQUIRE_BROKER=1
// turns a missing broker into a failure instead of skipped integration suites.
//
// Where the broker comes from, in order:
//   1. AMQP_URL when it is set (CI, a developer's own broker);
//   2. otherwise a throw-away RabbitMQ started with testcontainers, when a container runtime answers
//      (TESTCONTAINERS_DISABLED=1 skips this);
//   3. otherwise the default local broker, amqp://guest:guest@127.0.0.1:5672.
// testcontainers is loaded only in case 2, so a machine without a container engine pays nothing for it
// and the suites never depend on one.
const { existsSync } = require('node:fs');
const { homedir } = require('node:os');
const { join } = require('node:path');
const amqp = require('amqplib');

const DEFAULT_URL = 'amqp://guest:guest@127.0.0.1:5672';
const RABBITMQ_IMAGE = process.env.TEST_RABBITMQ_IMAGE || 'rabbitmq:4-alpine';
/** How long the container runtime may take to answer before the run falls back. */
const RUNTIME_PROBE_MS = 5000;

const note = (text) => process.stderr.write(`[global-setup] ${text}\n`);
const masked = (url) => url.replace(/\/\/[^@]*@/, '//***@');

/** Cheap look for a container runtime before loading testcontainers (which would search much longer). */
function runtimeHint() {
  if (process.env.TESTCONTAINERS_DISABLED === '1') return undefined;
  if (process.env.DOCKER_HOST) return `DOCKER_HOST=${process.env.DOCKER_HOST}`;
  const home = process.env.HOME || homedir();
  const sockets = [
    '/var/run/docker.sock',
    join(home, '.docker/run/docker.sock'),
    join(home, '.docker/desktop/docker.sock'),
    process.env.XDG_RUNTIME_DIR && join(process.env.XDG_RUNTIME_DIR, 'podman/podman.sock'),
    process.env.XDG_RUNTIME_DIR && join(process.env.XDG_RUNTIME_DIR, 'docker.sock'),
    join(home, '.testcontainers.properties'),
  ].filter(Boolean);
  return sockets.find((s) => existsSync(s));
}

function withDeadline(promise, ms, what) {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** A RabbitMQ container, or undefined (with the reason printed) when none can be started. */
async function startContainerBroker() {
  const hint = runtimeHint();
  if (!hint) {
    note('no AMQP_URL and no container runtime (no DOCKER_HOST, no docker/podman socket): using the default broker');
    return undefined;
  }
  let tc;
  try {
    tc = require('testcontainers');
  } catch (err) {
    note(`testcontainers cannot be loaded (${err && err.message}): using the default broker`);
    return undefined;
  }
  try {
    await withDeadline(tc.getContainerRuntimeClient(), RUNTIME_PROBE_MS, `the container runtime (${hint})`);
  } catch (err) {
    note(`container runtime not usable (${err && err.message}): using the default broker`);
    return undefined;
  }
  note(`starting ${RABBITMQ_IMAGE} with testcontainers (${hint})`);
  const container = await new tc.GenericContainer(RABBITMQ_IMAGE)
    .withExposedPorts(5672)
    .withWaitStrategy(tc.Wait.forLogMessage(/Server startup complete/))
    .withStartupTimeout(120000)
    .start();
  return { container, url: `amqp://guest:guest@${container.getHost()}:${container.getMappedPort(5672)}` };
}

module.exports = async function globalSetup() {
  let url = process.env.AMQP_URL;
  if (!url) {
    let started;
    try {
      started = await startContainerBroker();
    } catch (err) {
      note(`RabbitMQ container did not start (${err && err.message}): using the default broker`);
    }
    if (started) {
      globalThis.__RABBITMQ_CONTAINER__ = started.container;
      url = started.url;
    } else {
      url = DEFAULT_URL;
    }
  }
  process.env.AMQP_URL = url;
  try {
    const conn = await amqp.connect(url, { timeout: 3000 });
    await conn.close();
    process.env.BROKER_AVAILABLE = '1';
  } catch (err) {
    process.env.BROKER_AVAILABLE = '0';
    const msg = `RabbitMQ is not reachable at ${masked(url)}: ${err && err.message}`;
    if (process.env.REQUIRE_BROKER === '1') throw new Error(`${msg} (REQUIRE_BROKER=1)`);
    note(`${msg}; broker suites are skipped (set REQUIRE_BROKER=1 to fail instead)`);
  }
};

module.exports.runtimeHint = runtimeHint;
module.exports.DEFAULT_URL = DEFAULT_URL;
