import { analyzeTrace, buildTree, type Finding, type FindingType, fromStored } from '@threadline/viewer-ui/analysis'
import { BadParameter } from '../api/params.js'
import type { StoredSpan } from '../model.js'

export type { Finding, FindingType }

/** The finding types of the shared analysis (the UI's names), accepted by `finding=`. */
export const FINDING_TYPES: readonly FindingType[] = [
  'n-plus-one',
  'sequential-calls',
  'error-root-cause',
  'largest-self-time',
]

export function parseFinding(text: string | null): FindingType | undefined {
  if (text === null || text === '') return undefined
  const type = text.toLowerCase().replaceAll('_', '-') as FindingType
  if (!FINDING_TYPES.includes(type))
    throw new BadParameter(`finding: expected one of ${FINDING_TYPES.join(', ')}, got "${text.slice(0, 40)}"`)
  return type
}

/** The same analysis the UI runs on a trace (N+1, sequential calls, error root cause, largest self time). */
export function traceFindings(spans: readonly StoredSpan[]): Finding[] {
  return analyzeTrace(buildTree(spans.map(fromStored)))
}

const CACHE_SIZE = 5000

/**
 * Finding types per trace, remembered by trace id and span count (a late span re-runs the
 * analysis), so a UI polling a search with `finding=` does not re-analyse every trace each time.
 */
export class FindingCache {
  private readonly entries = new Map<string, { spanCount: number; types: Set<FindingType> }>()

  types(traceId: string, spanCount: number, load: () => readonly StoredSpan[] | undefined): Set<FindingType> {
    const hit = this.entries.get(traceId)
    if (hit && hit.spanCount === spanCount) return hit.types
    const spans = load()
    const types = new Set(spans ? traceFindings(spans).map((f) => f.type) : [])
    this.entries.delete(traceId)
    this.entries.set(traceId, { spanCount, types })
    if (this.entries.size > CACHE_SIZE) this.entries.delete(this.entries.keys().next().value!)
    return types
  }
}
