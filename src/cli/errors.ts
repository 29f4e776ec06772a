/**
 * Outcomes a command reports by throwing, so that `main` alone turns them into exit statuses (see
 * {@link exitCodeFor} in main.ts): {@link RunFailedError} for a run that wrote what it could but had a part
 * fail (status 1). Usage errors are `UsageError` (core/errors.ts, status 2); interruptions are `AbortError`
 * (core/progress.ts, status 130).
 */

/** Part of the work failed (a model, a trial); the command has already written what finished. */
export class RunFailedError extends Error {
  override name = 'RunFailedError';
}
