// Stops the RabbitMQ container global-setup started (if it started one; testcontainers' reaper would
// also remove it when the run exits, this just frees it sooner).
module.exports = async function globalTeardown() {
  const container = globalThis.__RABBITMQ_CONTAINER__;
  if (!container) return;
  globalThis.__RABBITMQ_CONTAINER__ = undefined;
  await container.stop();
};
