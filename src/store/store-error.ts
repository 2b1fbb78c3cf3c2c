import { ParleyError } from '../lib/errors.js';

/** A store operation failed: a duplicate, a bad value, or the database itself. */
export class StoreError extends ParleyError {
  constructor(
    readonly storeCode: 'ERR_STORE_EXISTS' | 'ERR_STORE_INVALID' | 'ERR_STORE_IO',
    message: string,
    options?: ErrorOptions,
  ) {
    super('ERR_STORE', message, options);
  }
}
