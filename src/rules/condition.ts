/**
 * Sigma condition expressions: `and`, `or`, `not`, parentheses, `1 of sel_*`, `all of sel_*`, `1 of them`,
 * `all of them` (also `any of`, `N of`). Precedence: not > and > or. Aggregations (`| count() …`) are
 * not supported: the correlation rules replace them.
 */
import { RuleCompileError, unsupported } from "./errors.ts";

export type ConditionNode =
  | { type: "ref"; name: string }
  | { type: "not"; arg: ConditionNode }
  | { type: "and"; args: ConditionNode[] }
  | { type: "or"; args: ConditionNode[] }
  /** `min` of the named selections (min = their count for `all of`). */
  | { type: "of"; min: number | "all"; names: string[]; pattern: string };

function globToRegExp(glob: string): RegExp {
  const src = glob
    .replace(/[.+^${}()|[\]\\/]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${src}$`);
}

/** Parses a condition; `identifiers` are the detection's named selections (for `of` expansion and checks). */
export function parseCondition(text: string, identifiers: readonly string[]): ConditionNode {
  if (text.includes("|")) throw unsupported("aggregation in condition", "use a correlation rule");
  const tokens = text.match(/\(|\)|[^\s()]+/g) ?? [];
  let pos = 0;
  const peek = () => tokens[pos];
  const lower = (t: string | undefined) => t?.toLowerCase();

  const fail = (msg: string): never => {
    throw new RuleCompileError(`condition ${JSON.stringify(text)}: ${msg}`);
  };

  function parseOr(): ConditionNode {
    const args = [parseAnd()];
    while (lower(peek()) === "or") {
      pos++;
      args.push(parseAnd());
    }
    return args.length === 1 ? args[0] : { type: "or", args };
  }

  function parseAnd(): ConditionNode {
    const args = [parseNot()];
    while (lower(peek()) === "and") {
      pos++;
      args.push(parseNot());
    }
    return args.length === 1 ? args[0] : { type: "and", args };
  }

  function parseNot(): ConditionNode {
    if (lower(peek()) === "not") {
      pos++;
      return { type: "not", arg: parseNot() };
    }
    return parseAtom();
  }

  function parseAtom(): ConditionNode {
    const t = tokens[pos++];
    if (t === undefined) return fail("unexpected end");
    if (t === "(") {
      const inner = parseOr();
      if (tokens[pos++] !== ")") fail("missing )");
      return inner;
    }
    if (t === ")") return fail("unexpected )");
    const lt = t.toLowerCase();
    if (lower(peek()) === "of") {
      pos++;
      const target = tokens[pos++];
      if (target === undefined || target === "(" || target === ")") return fail(`${t} of: missing target`);
      let min: number | "all";
      if (lt === "all") min = "all";
      else if (lt === "any") min = 1;
      else if (/^\d+$/.test(lt) && Number(lt) >= 1) min = Number(lt);
      else return fail(`"${t} of": expected 1, any, all or a number`);
      let names: string[];
      if (target.toLowerCase() === "them") {
        names = identifiers.filter((n) => !n.startsWith("_"));
      } else {
        const re = globToRegExp(target);
        names = identifiers.filter((n) => re.test(n));
      }
      if (names.length === 0) fail(`"${target}" matches no selection`);
      return { type: "of", min, names, pattern: target };
    }
    if (["and", "or", "not", "of"].includes(lt)) return fail(`unexpected "${t}"`);
    if (!identifiers.includes(t)) fail(`unknown selection "${t}"`);
    return { type: "ref", name: t };
  }

  if (tokens.length === 0) fail("empty");
  const tree = parseOr();
  if (pos < tokens.length) fail(`unexpected "${tokens[pos]}"`);
  return tree;
}
