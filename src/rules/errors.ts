/** Why a rule could not be compiled: a plain mistake, or a Sigma feature the engine does not implement. */
export class RuleCompileError extends Error {
  /** Set when the rule is valid Sigma but uses something the engine does not evaluate. */
  readonly feature?: string;

  constructor(message: string, feature?: string) {
    super(message);
    this.name = "RuleCompileError";
    this.feature = feature;
  }
}

/** A valid Sigma construct the engine refuses rather than evaluating it wrongly. */
export function unsupported(feature: string, detail?: string): RuleCompileError {
  return new RuleCompileError(
    `unsupported Sigma feature: ${feature}${detail ? ` (${detail})` : ""}`,
    feature,
  );
}
