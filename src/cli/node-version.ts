/**
 * The Node.js line Parley needs, read from package.json's `engines.node` (one source of truth),
 * and the check the `parley` command makes before it loads anything else: on an older Node, a
 * missing built-in module or API would otherwise fail with an error that names neither Node nor
 * the version needed. This module uses nothing newer than Node 14 has.
 */

/** The lowest major version `range` allows: `>=24`, `>=24.3.0`, `^24.1`, `24.x`; undefined for a range not of these forms. */
export function minimumMajor(range: string | undefined): number | undefined {
  if (range === undefined) return undefined;
  const m = /^\s*(?:>=|\^|~)?\s*v?(\d+)(?:\.(?:\d+|x|\*)){0,2}\s*$/.exec(range);
  return m === null ? undefined : Number(m[1]);
}

/**
 * The message for a Node.js older than `range`, or undefined when `version` (process.version,
 * `v24.1.0`) satisfies its major version.
 */
export function nodeTooOld(version: string, range: string | undefined, execPath: string): string | undefined {
  const needed = minimumMajor(range);
  const major = Number(/^v?(\d+)/.exec(version)?.[1]);
  if (needed === undefined || !Number.isFinite(major) || major >= needed) return undefined;
  return (
    `parley: needs Node.js ${needed} or later (package.json engines: "${range}"); ` +
    `this is Node.js ${version} (${execPath}), the first "node" on PATH.\n` +
    `Put a Node.js ${needed} first on PATH (e.g. from https://nodejs.org, nvm, or \`npm install node@${needed}\` and its node_modules/.bin), ` +
    `or run the command with it: /path/to/node ${process.argv[1] ?? 'parley'} …`
  );
}
