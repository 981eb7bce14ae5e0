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
  if (!props.findings.length) return null
  return (
    <ul class="findings" data-testid="findings">
      {props.findings.map((f, i) => (
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
    </ul>
  )
}
