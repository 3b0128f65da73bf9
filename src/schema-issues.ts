/** zod errors in the messages of whatever validates input with a schema: config, rules, triggers. */
import type { z } from "zod";

/**
 * A zod error as one line, "path: message; …". `root` names the path of an issue about the whole
 * document; `max` keeps the first issues only (a malformed event can have one per field).
 */
export function describeIssues(error: z.ZodError, options: { root?: string; max?: number } = {}): string {
  return error.issues
    .slice(0, options.max)
    .map((i) => `${i.path.length ? i.path.map(String).join(".") : (options.root ?? "(root)")}: ${i.message}`)
    .join("; ");
}
