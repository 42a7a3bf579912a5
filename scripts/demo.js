#!/usr/bin/env node
'use strict';
/**
 * `npm run demo`: the README's first command. `coverage-connector assess` on the shipped example
 * (config/examples/), through the built CLI; extra arguments are passed on (`npm run demo -- --explain`).
 */
const { runBuiltCli } = require('./built-cli');

runBuiltCli([
  'assess',
  'config/examples/report-apt-example.json',
  '--rules', 'config/examples/rules',
  '--controls', 'config/examples/controls.yml',
  '--data-sources', 'config/examples/data-sources.yml',
  '--validation', 'config/examples/validation.yml',
  '--platforms', 'windows',
  ...process.argv.slice(2),
]);
