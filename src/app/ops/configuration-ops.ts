import { OpsError, type ConfigCheckView, type ConfigReloadView, type ConfigurationOps } from '../../api/operations.js';
import { checkConfigText } from '../config.js';
import type { ServerParts } from './server-parts.js';

/**
 * The configuration file's reload for the API (`POST /api/v1/config/reload`): the one SIGHUP and
 * `parley reload` run (run-server.ts), its outcome as a view, a refused file as 422 naming the
 * key, no file as 409.
 */
export function configurationOps(parts: Pick<ServerParts, 'reloadConfig'>): ConfigurationOps {
  return {
    reload: async (): Promise<ConfigReloadView> => {
      const o = await parts.reloadConfig('api');
      if (!o.ok) throw new OpsError(422, o.error, o.key);
      if (o.file === undefined) throw new OpsError(409, 'the server was started without a configuration file (--config): nothing to read again');
      return { file: o.file, applied: o.applied, restart: o.restart };
    },
    // the environment's PARLEY_ variables are the server's business, not the text's: not applied
    check: (text: string): ConfigCheckView => {
      const errors = checkConfigText(text, 'config').sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity));
      return { ok: errors.length === 0, errors: errors.map((e) => ({ key: e.key, ...(e.line === undefined ? {} : { line: e.line }), error: e.detail, message: e.message })) };
    },
  };
}
