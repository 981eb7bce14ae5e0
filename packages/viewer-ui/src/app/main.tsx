import { render } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { fromOtlpJson, importedTraces } from './otlp.js'
import { ComparePage } from './pages/compare.js'
import { FindingsPage } from './pages/findings.js'
import { MapPage } from './pages/map.js'
import { OperationsPage } from './pages/operations.js'
import { SearchPage } from './pages/search.js'
import { TracePage } from './pages/trace.js'
import { navigate, onLinkClick, useRoute } from './router.js'
import './style.css'

const NAV = [
  ['/search', 'Search'],
  ['/map', 'Service map'],
  ['/operations', 'Operations'],
  ['/compare', 'Compare'],
  ['/findings', 'Findings'],
] as const

async function openFile(file: File, onError: (message: string) => void): Promise<void> {
  try {
    const spans = fromOtlpJson(await file.text())
    const traceId = spans[0]!.traceId
    importedTraces.set(
      traceId,
      spans.filter((s) => s.traceId === traceId),
    )
    navigate(`/trace/${encodeURIComponent(traceId)}?source=file`)
  } catch (error) {
    onError(`${file.name}: ${(error as Error).message}`)
  }
}

function App() {
  const route = useRoute()
  const [dragging, setDragging] = useState(false)
  const [error, setError] = useState<string>()

  useEffect(() => {
    const over = (e: DragEvent) => {
      if (!e.dataTransfer?.types.includes('Files')) return
      e.preventDefault()
      setDragging(true)
    }
    const leave = (e: DragEvent) => {
      if (e.relatedTarget === null) setDragging(false)
    }
    const drop = (e: DragEvent) => {
      e.preventDefault()
      setDragging(false)
      const file = e.dataTransfer?.files[0]
      if (file) void openFile(file, setError)
    }
    window.addEventListener('dragover', over)
    window.addEventListener('dragleave', leave)
    window.addEventListener('drop', drop)
    return () => {
      window.removeEventListener('dragover', over)
      window.removeEventListener('dragleave', leave)
      window.removeEventListener('drop', drop)
    }
  }, [])

  const path = route.path === '/' ? '/search' : route.path
  let page = <SearchPage route={route} />
  if (path.startsWith('/trace/'))
    page = <TracePage route={route} traceId={decodeURIComponent(path.slice('/trace/'.length))} />
  else if (path === '/map') page = <MapPage route={route} />
  else if (path === '/operations') page = <OperationsPage route={route} />
  else if (path === '/compare') page = <ComparePage route={route} />
  else if (path === '/findings') page = <FindingsPage route={route} />

  return (
    <div class="app">
      <header class="topbar">
        <a class="brand" href="/search" onClick={onLinkClick}>
          <span class="logo" aria-hidden="true" />
          Threadline
        </a>
        <nav>
          {NAV.map(([href, label]) => (
            <a
              key={href}
              href={href}
              onClick={onLinkClick}
              class={path === href || (href === '/search' && path.startsWith('/trace/')) ? 'active' : ''}
            >
              {label}
            </a>
          ))}
        </nav>
        <label class="button ghost import" title="Open an OTLP/JSON trace file (or drop it anywhere)">
          Open trace file
          <input
            type="file"
            accept=".json,application/json"
            data-testid="import-file"
            onChange={(e) => {
              const file = (e.currentTarget as HTMLInputElement).files?.[0]
              if (file) void openFile(file, setError)
            }}
          />
        </label>
      </header>
      {error && (
        <div class="banner error" role="alert">
          {error}
          <button type="button" class="link" onClick={() => setError(undefined)}>
            dismiss
          </button>
        </div>
      )}
      <main>{page}</main>
      {dragging && <div class="dropzone">Drop an OTLP/JSON trace file to open it</div>}
    </div>
  )
}

render(<App />, document.getElementById('app')!)
