// Kept in step with package.json by `npm run version` (scripts/sync-version.mjs), checked by a test.
export const VERSION = '0.1.0'
