import { importAttackCatalogueFile, catalogueStats } from './src/adapters/evidence';
(async () => {
  const r = await importAttackCatalogueFile('/work/shared/attack/enterprise-attack-18.1.json.gz', '/tmp/cat-test/catalogue.json');
  console.log(r.bytesWritten, r.durationMs, r.catalogue.version, catalogueStats(r.catalogue));
  const c = r.catalogue;
  console.log(c.techniques['T1059.001'], c.techniques['T1574.002'], c.techniques['T1086'], c.techniques['T1059']);
  console.log(Object.values(c.techniques).filter(t=>!t.revoked&&!t.deprecated&&t.dataComponents.length===0).length, 'active with no DC');
  console.log(Object.values(c.techniques).filter(t=>!t.revoked&&!t.deprecated&&t.mitigations.length===0).length, 'active with no mitig');
})();
