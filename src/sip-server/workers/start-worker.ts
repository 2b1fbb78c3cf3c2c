import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * The module `name` beside the module at `base` (its `import.meta.url`): `name.ts` when that one
 * runs from TypeScript sources (tests under tsx), `name.js` when built.
 */
export function siblingModule(base: string, name: string): URL {
  return new URL(`./${name}${base.endsWith('.ts') ? '.ts' : '.js'}`, base);
}

/**
 * A worker thread running the ES module `entry`. From TypeScript sources (tests under tsx) the
 * worker registers tsx's loader itself before it imports its entry: the parent's loader hooks do
 * not reach worker threads.
 */
export function startWorker(entry: URL, options: WorkerOptions): Worker {
  return entry.pathname.endsWith('.ts')
    ? new Worker(
        `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); })`,
        { ...options, eval: true },
      )
    : new Worker(entry, options);
}
