import { loadEvidence } from './src/adapters/evidence';
(async () => {
  const e = await loadEvidence({ rulesDirs: ['config/examples/rules'], controlsFile: 'config/examples/controls.yml', dataSourcesFile: 'config/examples/data-sources.yml', validationFile: 'config/examples/validation.yml' });
  console.log(e.rules.length, e.controls.length, e.dataSources.length, e.validation.length, e.issues);
})();
