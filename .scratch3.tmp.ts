import { transpileProject } from './bench/lib/transpile';
console.log(transpileProject(process.cwd(), '/tmp/loaders-build'));
