/** Options shared by every front door (channels, `instrumentSchema`, Yoga, Apollo). */
export interface GraphQLTracingOptions {
  /**
   * One span per field path, merging the calls across list items (`users.*.posts`) into one span
   * with count, total, max and p50 durations. `false`: one span per resolver call. Default `true`.
   */
  mergeListItems?: boolean
  /** Skip fields that use the default property resolver. Default `true`. */
  ignoreTrivialResolvers?: boolean
  /** Deepest field level that gets resolver spans (`user` is 1, `user.orders` is 2). Default: no limit. */
  depth?: number
  /** Resolver spans at all (`false`: only parse, validate and execute). Default `true`. */
  resolverSpans?: boolean
  /** Record `graphql.document` (whitespace-normalised, literals replaced by `?`). Default `false`. */
  recordDocument?: boolean
  /** Longest `graphql.document` recorded, in characters. Default 2,000. */
  documentMaxLength?: number
  /** Variables recorded by name (`graphql.variables.<name>`); none by default, as they may hold secrets. */
  allowedVariables?: readonly string[]
  /** Rename the request's HTTP server span to include the operation (`POST /graphql query GetUser`). Default `true`. */
  renameServerSpan?: boolean
}

export interface ResolvedOptions {
  mergeListItems: boolean
  ignoreTrivialResolvers: boolean
  depth: number
  resolverSpans: boolean
  recordDocument: boolean
  documentMaxLength: number
  allowedVariables: ReadonlySet<string>
  renameServerSpan: boolean
}

export function resolveOptions(options: GraphQLTracingOptions = {}): ResolvedOptions {
  const depth = options.depth
  return {
    mergeListItems: options.mergeListItems ?? true,
    ignoreTrivialResolvers: options.ignoreTrivialResolvers ?? true,
    depth: depth === undefined || depth < 0 ? Number.POSITIVE_INFINITY : depth,
    resolverSpans: options.resolverSpans ?? true,
    recordDocument: options.recordDocument ?? false,
    documentMaxLength: options.documentMaxLength ?? 2000,
    allowedVariables: new Set(options.allowedVariables ?? []),
    renameServerSpan: options.renameServerSpan ?? true,
  }
}
