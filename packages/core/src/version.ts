// Kept in step with package.json by the build (see scripts/sync-version.mjs).
export const VERSION = '0.1.0'
