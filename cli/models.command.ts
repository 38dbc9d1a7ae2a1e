import type { Command } from 'commander';
import path from 'node:path';
import { loadModelFolder } from '../models/contract';
import { currentVersion, listModelNames, listVersions, modelsDir, promote, rollback } from '../models/store';

export function registerModelsCommand(program: Command): void {
  const models = program.command('models').description('model versions: list, promote, roll back');
  models
    .command('list')
    .description('every model and version, its checksum state and validation figure; * marks the current one')
    .action(() => {
      const root = modelsDir();
      const names = listModelNames(root);
      if (names.length === 0) console.log(`no models in ${root}`);
      for (const name of names) {
        const current = currentVersion(root, name);
        console.log(name);
        for (const version of listVersions(root, name)) {
          let detail: string;
          try {
            const { manifest } = loadModelFolder(path.join(root, name, version));
            const m = manifest.metrics as { validationScaledMae?: number; validation?: { f1?: number } };
            detail = `${manifest.kind}, L=${manifest.lookback}${manifest.horizon ? ` H=${manifest.horizon}` : ''}, ${manifest.onnx.bytes} bytes, sha256 ${manifest.onnx.sha256.slice(0, 12)}, ${m.validationScaledMae !== undefined ? `validation scaled MAE ${m.validationScaledMae}` : `validation F1 ${m.validation?.f1 ?? '-'}`}`;
          } catch (err) {
            detail = `INVALID: ${(err as Error).message.split('\n')[0]}`;
          }
          console.log(`  ${version === current ? '*' : ' '} ${version}  ${detail}`);
        }
      }
    });
  models
    .command('promote <name> <version>')
    .description('make a version current (it must meet the model contract)')
    .action((name: string, version: string) => {
      const entry = promote(modelsDir(), name, version, 'by hand (pdmctl models promote)');
      console.log(`${name}: ${entry.previous ?? '(none)'} -> ${entry.version}`);
    });
  models
    .command('rollback <name>')
    .description('go back to the version that was current before the current one was promoted')
    .action((name: string) => {
      const entry = rollback(modelsDir(), name);
      console.log(`${name}: ${entry.previous} -> ${entry.version}`);
    });
}
