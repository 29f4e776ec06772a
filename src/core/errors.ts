/**
 * Error classes shared by every layer. Ground floor: imports nothing.
 */

/**
 * The user asked for something the program refuses to do (a bad option value, an output path that would
 * destroy data, a path that cannot be written). The CLI maps it to exit code 2; the message is a complete
 * sentence naming the path or option and why.
 */
export class UsageError extends Error {
  override name = 'UsageError';
}
