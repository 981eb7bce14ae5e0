/**
 * Errors a user of the viewer can cause, each with a stable code:
 * - `TL_ERR_VIEWER_TOKEN_REQUIRED` a non-loopback host without `--token`
 * - `TL_ERR_VIEWER_PORT_IN_USE`, `TL_ERR_VIEWER_PORT_DENIED`, `TL_ERR_VIEWER_LISTEN` a port could not be opened
 * - `TL_ERR_VIEWER_OPTION` an option or flag has a value that cannot work
 * - `TL_ERR_VIEWER_STORE` the SQLite file cannot be opened or is not a Threadline store
 */
export class ViewerError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
    this.name = 'ViewerError'
  }
}
