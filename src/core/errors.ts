/**
 * A refusal caused by what the user asked for (bad flag, bad config, an input that cannot be used): the CLI
 * reports its message and exits with status 2, distinct from a run that started and failed (status 1).
 */
export class UsageError extends Error { override name = 'UsageError'; }
