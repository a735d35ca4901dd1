/**
 * Regular expressions that cannot backtrack catastrophically. Patterns are parsed into the
 * subset of `regex_parse.ts` and run on a Pike VM (Thompson NFA with capture slots): time is
 * O(input length x program size) whatever the pattern, so `(a+)+$` costs the same as `a+$`.
 * Matching semantics follow JavaScript's (leftmost match, greedy or lazy quantifiers).
 * Bounds: pattern at most MAX_PATTERN chars and MAX_PROGRAM instructions; inputs longer than
 * MAX_INPUT characters never match (and `replace` leaves them unchanged).
 */
import { isWordChar, type Node, parseRegex, RegexSyntaxError } from "./regex_parse.ts";

export const MAX_PATTERN = 1024;
export const MAX_PROGRAM = 10_000;
export const MAX_INPUT = 65_536;

const CHAR = 0, MATCH = 1, JMP = 2, SPLIT = 3, SAVE = 4, BOL = 5, EOL = 6, WORDB = 7, NWORDB = 8;

interface Inst {
  op: number;
  x: number;
  y: number;
  pred?: (c: number) => boolean;
}

export interface SafeRegex {
  readonly source: string;
  /** True when the pattern matches somewhere in the input. */
  test(input: string): boolean;
  /** Capture offsets [start0, end0, start1, end1, ...] of the first match at or after `from`. */
  exec(input: string, from?: number): number[] | null;
  /** Replaces every match; `$&`, `$1`..`$9` and `$<name>` expand in the replacement. */
  replaceAll(input: string, replacement: string): string;
}

export { RegexSyntaxError };

export function compileSafeRegex(pattern: string, opts: { ignoreCase?: boolean } = {}): SafeRegex {
  if (pattern.length > MAX_PATTERN) {
    throw new RegexSyntaxError(pattern.slice(0, 40) + "...", `longer than ${MAX_PATTERN} chars`);
  }
  try {
    new RegExp(pattern); // the native parser catches syntax our subset parser is lenient about
  } catch (e) {
    throw new RegexSyntaxError(pattern, (e as Error).message);
  }
  const parsed = parseRegex(pattern, opts.ignoreCase ?? false);
  const prog = compileProgram(pattern, parsed.node);
  const slots = (parsed.groups + 1) * 2;
  const seen = new Int32Array(prog.length);

  const run = (s: string, from: number, wantCaps: boolean): number[] | null => {
    if (s.length > MAX_INPUT) return null;
    seen.fill(-1);
    let clist: { pc: number; caps: number[] | null }[] = [];
    let matched: number[] | null = null;
    const add = (
      list: typeof clist,
      pc: number,
      caps: number[] | null,
      pos: number,
    ): void => {
      if (seen[pc] === pos) return;
      seen[pc] = pos;
      const inst = prog[pc];
      switch (inst.op) {
        case JMP:
          return add(list, inst.x, caps, pos);
        case SPLIT:
          add(list, inst.x, caps, pos);
          return add(list, inst.y, caps, pos);
        case SAVE: {
          let next = caps;
          if (caps) {
            next = caps.slice();
            next[inst.x] = pos;
          }
          return add(list, pc + 1, next, pos);
        }
        case BOL:
          if (pos === 0) add(list, pc + 1, caps, pos);
          return;
        case EOL:
          if (pos === s.length) add(list, pc + 1, caps, pos);
          return;
        case WORDB:
        case NWORDB: {
          const a = pos > 0 && isWordChar(s.charCodeAt(pos - 1));
          const b = pos < s.length && isWordChar(s.charCodeAt(pos));
          if ((a !== b) === (inst.op === WORDB)) add(list, pc + 1, caps, pos);
          return;
        }
        default:
          list.push({ pc, caps });
      }
    };
    const fresh = () => wantCaps ? new Array<number>(slots).fill(-1) : null;
    add(clist, 0, fresh(), from);
    for (let pos = from;; pos++) {
      const nlist: typeof clist = [];
      const c = pos < s.length ? s.charCodeAt(pos) : -1;
      for (const t of clist) {
        const inst = prog[t.pc];
        if (inst.op === MATCH) {
          if (!wantCaps) return [];
          matched = t.caps;
          break; // lower-priority threads lose to this match
        }
        if (c >= 0 && inst.pred!(c)) add(nlist, t.pc + 1, t.caps, pos + 1);
      }
      if (pos >= s.length) break;
      if (!matched) add(nlist, 0, fresh(), pos + 1);
      else if (nlist.length === 0) break;
      clist = nlist;
    }
    return matched;
  };

  return {
    source: pattern,
    test: (input) => run(input, 0, false) !== null,
    exec: (input, from = 0) => run(input, from, true),
    replaceAll(input, replacement) {
      if (input.length > MAX_INPUT) return input;
      let out = "";
      let last = 0;
      let from = 0;
      while (from <= input.length) {
        const caps = run(input, from, true);
        if (!caps) break;
        const [start, end] = caps;
        out += input.slice(last, start) + expand(replacement, input, caps, parsed.names);
        last = end;
        from = end === start ? end + 1 : end;
      }
      return out + input.slice(last);
    },
  };
}

function expand(
  repl: string,
  input: string,
  caps: number[],
  names: Record<string, number>,
): string {
  const group = (n: number) => caps[2 * n] >= 0 ? input.slice(caps[2 * n], caps[2 * n + 1]) : "";
  return repl.replace(/\$(\$|&|<([^>]+)>|[1-9])/g, (all, tok: string, name?: string) => {
    if (tok === "$") return "$";
    if (tok === "&") return group(0);
    if (name !== undefined) return names[name] !== undefined ? group(names[name]) : all;
    const n = Number(tok);
    return 2 * n < caps.length ? group(n) : all;
  });
}

function compileProgram(pattern: string, root: Node): Inst[] {
  const prog: Inst[] = [];
  const emit = (inst: Inst): number => {
    if (prog.length >= MAX_PROGRAM) {
      throw new RegexSyntaxError(pattern, `compiles to more than ${MAX_PROGRAM} instructions`);
    }
    prog.push(inst);
    return prog.length - 1;
  };
  const gen = (n: Node): void => {
    switch (n.t) {
      case "char":
        emit({ op: CHAR, x: 0, y: 0, pred: n.pred });
        return;
      case "bol":
        emit({ op: BOL, x: 0, y: 0 });
        return;
      case "eol":
        emit({ op: EOL, x: 0, y: 0 });
        return;
      case "wordb":
        emit({ op: n.neg ? NWORDB : WORDB, x: 0, y: 0 });
        return;
      case "cat":
        for (const item of n.items) gen(item);
        return;
      case "group":
        if (n.index === null) return gen(n.node);
        emit({ op: SAVE, x: 2 * n.index, y: 0 });
        gen(n.node);
        emit({ op: SAVE, x: 2 * n.index + 1, y: 0 });
        return;
      case "alt": {
        const jumps: number[] = [];
        n.items.forEach((item, k) => {
          if (k < n.items.length - 1) {
            const split = emit({ op: SPLIT, x: 0, y: 0 });
            prog[split].x = prog.length;
            gen(item);
            jumps.push(emit({ op: JMP, x: 0, y: 0 }));
            prog[split].y = prog.length;
          } else gen(item);
        });
        for (const j of jumps) prog[j].x = prog.length;
        return;
      }
      case "rep": {
        for (let k = 0; k < n.min; k++) gen(n.node);
        if (n.max === Infinity) {
          const split = emit({ op: SPLIT, x: 0, y: 0 });
          gen(n.node);
          emit({ op: JMP, x: split, y: 0 });
          branch(split, split + 1, prog.length, n.greedy);
        } else {
          const splits: number[] = [];
          for (let k = n.min; k < n.max; k++) {
            const split = emit({ op: SPLIT, x: 0, y: 0 });
            splits.push(split);
            gen(n.node);
          }
          for (const s of splits) branch(s, s + 1, prog.length, n.greedy);
        }
        return;
      }
    }
  };
  const branch = (at: number, body: number, out: number, greedy: boolean) => {
    prog[at].x = greedy ? body : out;
    prog[at].y = greedy ? out : body;
  };
  emit({ op: SAVE, x: 0, y: 0 });
  gen(root);
  emit({ op: SAVE, x: 1, y: 0 });
  emit({ op: MATCH, x: 0, y: 0 });
  return prog;
}
