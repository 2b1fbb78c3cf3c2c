/**
 * A listener that could not be bound, for the operator: which one (`index` in the list it was
 * given in, and what it asked for) and why, in words (`detail`), with the system error as `cause`.
 * The composition root turns `index` and `field` into the configuration key (`sip.listen[1]`,
 * `http.listen[0].address`) or the command-line option the listener came from.
 */
export class ListenError extends Error {
  constructor(
    /** Position of the listener in the list given (TransportLayerOptions.listeners, HttpServerOptions.listeners). */
    readonly index: number,
    readonly listener: { readonly transport: string; readonly address: string; readonly port: number },
    /** The part of the listener at fault: its address (does not resolve, not of this host), else the whole listener. */
    readonly field: 'address' | undefined,
    readonly detail: string,
    options?: ErrorOptions,
  ) {
    super(detail, options);
    this.name = 'ListenError';
  }
}

/** A ListenError for a failed bind, its detail in words for the usual system errors. */
export function listenError(index: number, listener: { readonly transport: string; readonly address: string; readonly port: number }, e: unknown): ListenError {
  const err = e as NodeJS.ErrnoException;
  const { transport, address, port } = listener;
  const what = `${transport} ${address}`;
  switch (err.code) {
    case 'EADDRINUSE':
      return new ListenError(index, listener, undefined, `port ${port} (${what}) is in use (EADDRINUSE)`, { cause: e });
    case 'EACCES':
      return new ListenError(index, listener, undefined, `port ${port} (${what}) needs privileges Parley does not have (EACCES)`, { cause: e });
    case 'EADDRNOTAVAIL':
      return new ListenError(index, listener, 'address', `${address} is not an address of this host (EADDRNOTAVAIL)`, { cause: e });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'EAI_NONAME':
      return new ListenError(index, listener, 'address', `${address} does not resolve (${err.code})`, { cause: e });
    default:
      return new ListenError(index, listener, undefined, `cannot listen on port ${port} (${what}): ${err.message ?? String(e)}`, { cause: e });
  }
}
