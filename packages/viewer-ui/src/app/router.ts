import { useEffect, useState } from 'preact/hooks'

/** The whole view state lives in the URL (path + query), so every view is a deep link. */
export interface Route {
  path: string
  params: URLSearchParams
}

const listeners = new Set<() => void>()

function current(): Route {
  return { path: location.pathname, params: new URLSearchParams(location.search) }
}

export function navigate(url: string, options: { replace?: boolean } = {}): void {
  if (options.replace) history.replaceState(null, '', url)
  else history.pushState(null, '', url)
  for (const listener of listeners) listener()
  if (!options.replace) window.scrollTo(0, 0)
}

/** Updates query parameters of the current path; empty values are removed. */
export function setParams(
  updates: Record<string, string | undefined | null>,
  options: { replace?: boolean } = { replace: true },
): void {
  const params = new URLSearchParams(location.search)
  for (const [key, value] of Object.entries(updates)) {
    if (value === undefined || value === null || value === '') params.delete(key)
    else params.set(key, value)
  }
  const query = params.toString()
  navigate(`${location.pathname}${query ? `?${query}` : ''}`, options)
}

export function useRoute(): Route {
  const [route, setRoute] = useState(current)
  useEffect(() => {
    const update = () => setRoute(current())
    listeners.add(update)
    window.addEventListener('popstate', update)
    return () => {
      listeners.delete(update)
      window.removeEventListener('popstate', update)
    }
  }, [])
  return route
}

/** Click handler for in-app links: plain clicks navigate without reloading, modified clicks open tabs. */
export function onLinkClick(event: MouseEvent): void {
  const anchor = (event.currentTarget as HTMLAnchorElement | null) ?? undefined
  if (
    !anchor ||
    event.defaultPrevented ||
    event.button !== 0 ||
    event.metaKey ||
    event.ctrlKey ||
    event.shiftKey ||
    event.altKey
  )
    return
  event.preventDefault()
  navigate(anchor.getAttribute('href') ?? '/')
}

export function query(params: Record<string, string | number | boolean | undefined | null | string[]>): string {
  const out = new URLSearchParams()
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '' || value === false) continue
    if (Array.isArray(value)) for (const v of value) out.append(key, v)
    else out.set(key, String(value))
  }
  const text = out.toString()
  return text ? `?${text}` : ''
}
