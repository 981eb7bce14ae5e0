import { parseSlo } from '@threadline/viewer-ui/analysis'
import { ViewerError } from '../errors.js'

/** A latency objective: `target` (0..1) of `operation`'s spans finish within `thresholdUs`. */
export interface Slo {
  /** Only this service's operation; any service when absent. */
  service?: string | undefined
  operation: string
  thresholdUs: number
  target: number
}

/**
 * `GET /orders/:id=200ms@99%`, optionally scoped to a service as `orders:GET /orders/:id=200ms@99%`
 * (a service name has no space, `/` or `:`). Throws TL_ERR_VIEWER_OPTION on anything else.
 */
export function parseSloOption(text: string): Slo {
  const slo = parseSlo(text.trim())
  if (!slo?.operation) {
    throw new ViewerError(
      'TL_ERR_VIEWER_OPTION',
      `--slo: expected "OPERATION=THRESHOLD@TARGET%" such as "GET /orders/:id=200ms@99%" (threshold in us, ms or s; target below 100%), got "${text.slice(0, 120)}"`,
    )
  }
  const scoped = /^([^\s/:=]+):(?!\/)(.+)$/.exec(slo.operation)
  if (scoped)
    return { service: scoped[1]!, operation: scoped[2]!.trim(), thresholdUs: slo.thresholdUs, target: slo.target }
  return { operation: slo.operation, thresholdUs: slo.thresholdUs, target: slo.target }
}
