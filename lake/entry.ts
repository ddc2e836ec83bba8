import { fileURLToPath } from 'node:url';

/**
 * A process entry beside the calling module, and the node flags it needs: from the TypeScript
 * sources, `x.ts` through tsx; from JavaScript compiled ahead (the test suite's copy,
 * test/global-setup.ts), `x.js` with plain node, which starts each child about 0.3 s of CPU sooner.
 */
export function entryBeside(moduleUrl: string, name: string): { path: string; execArgv: string[] } {
  const fromSource = moduleUrl.endsWith('.ts');
  return {
    path: fileURLToPath(new URL(`./${name}.${fromSource ? 'ts' : 'js'}`, moduleUrl)),
    execArgv: fromSource ? ['--import', 'tsx'] : [],
  };
}
