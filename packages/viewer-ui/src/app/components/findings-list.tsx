import { useState } from 'preact/hooks'
import type { Finding } from '../../analysis/index.js'
import { formatDuration } from '../format.js'

const LABELS: Record<Finding['type'], string> = {
  'n-plus-one': 'N+1',
  'sequential-calls': 'Sequential',
  'error-root-cause': 'Root cause',
  'largest-self-time': 'Self time',
}

export function findingLabel(type: Finding['type']): string {
  return LABELS[type]
}

/** Findings as cards; clicking one selects its first span (and marks the others). */
export function FindingsList(props: {
  findings: Finding[]
  onPick(finding: Finding): void
  activeIndex?: number | undefined
}) {
  const [all, setAll] = useState(false)
  if (!props.findings.length) return null
  const limit = 3
  const shown = all ? props.findings : props.findings.slice(0, limit)
  return (
    <ul class="findings" data-testid="findings">
      {shown.map((f, i) => (
        <li
          key={i}
          class={`finding sev-${f.severity} ${props.activeIndex === i ? 'active' : ''}`}
          data-finding={f.type}
        >
          <button type="button" onClick={() => props.onPick(f)}>
            <span class={`tag tag-${f.type}`}>{LABELS[f.type]}</span>
            <span class="finding-title">{f.title}</span>
            <span class="finding-detail">{f.detail}</span>
            {f.savingUs !== undefined && f.savingUs > 0 && (
              <span class="finding-meta">could save ~{formatDuration(f.savingUs)}</span>
            )}
          </button>
        </li>
      ))}
      {props.findings.length > limit && (
        <li class="finding more">
          <button type="button" onClick={() => setAll(!all)}>
            {all ? 'Show fewer findings' : `Show all ${props.findings.length} findings`}
          </button>
        </li>
      )}
    </ul>
  )
}
