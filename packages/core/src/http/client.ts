/**
 * Outgoing HTTP: CLIENT spans and header injection for global fetch (undici's diagnostics
 * channels) and node:http/https (Node's http.client.* channels). Filled in by the propagation issue.
 */
export interface OutgoingHttpOptions {
  fetch?: boolean | undefined
  http?: boolean | undefined
}

/** Subscribes to the outgoing-request channels; returns a function that unsubscribes. */
export function instrumentOutgoingHttp(_options: OutgoingHttpOptions = {}): () => void {
  return () => {}
}
