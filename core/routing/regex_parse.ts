/**
 * Parser for the regular-expression subset the safe engine runs: literals, `.`, classes,
 * `\d \w \s` (and negations), `\b \B`, `^ $`, groups (capturing, named, non-capturing),
 * alternation and the quantifiers `* + ? {n} {n,} {n,m}` (greedy or lazy). Backreferences and
 * lookaround are refused: they are what makes a pattern need a backtracking engine.
 */

export type CharPred = (c: number) => boolean;

export type Node =
  | { t: "char"; pred: CharPred }
  | { t: "cat"; items: Node[] }
  | { t: "alt"; items: Node[] }
  | { t: "rep"; node: Node; min: number; max: number; greedy: boolean }
  | { t: "group"; node: Node; index: number | null; name?: string }
  | { t: "bol" }
  | { t: "eol" }
  | { t: "wordb"; neg: boolean };

/** Largest `{n,m}` bound accepted; larger counts would blow up the compiled program. */
export const MAX_REPEAT = 1000;

export class RegexSyntaxError extends Error {
  constructor(pattern: string, reason: string) {
    super(`unsupported regular expression /${pattern}/: ${reason}`);
    this.name = "RegexSyntaxError";
  }
}

type Range = [number, number];
const DIGIT: Range[] = [[48, 57]];
const WORD: Range[] = [[48, 57], [65, 90], [95, 95], [97, 122]];
const SPACE: Range[] = [
  [9, 13],
  [32, 32],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
  [0xfeff, 0xfeff],
];

function inRanges(ranges: readonly Range[], c: number): boolean {
  for (const [lo, hi] of ranges) if (c >= lo && c <= hi) return true;
  return false;
}

/** The UTF-16 code units not in `ranges` (sorted, non-overlapping input). */
function complement(ranges: readonly Range[]): Range[] {
  const out: Range[] = [];
  let next = 0;
  for (const [lo, hi] of [...ranges].sort((a, b) => a[0] - b[0])) {
    if (lo > next) out.push([next, lo - 1]);
    next = Math.max(next, hi + 1);
  }
  if (next <= 0xffff) out.push([next, 0xffff]);
  return out;
}

export function isWordChar(c: number): boolean {
  return inRanges(WORD, c);
}

function rangesPred(ranges: Range[], negate: boolean): CharPred {
  if (!negate && ranges.length === 1 && ranges[0][0] === ranges[0][1]) {
    const only = ranges[0][0];
    return (c) => c === only;
  }
  return negate ? (c) => !inRanges(ranges, c) : (c) => inRanges(ranges, c);
}

function caseFold(pred: CharPred): CharPred {
  return (c) => {
    if (pred(c)) return true;
    const s = String.fromCharCode(c);
    const lo = s.toLowerCase();
    const up = s.toUpperCase();
    return (lo.length === 1 && pred(lo.charCodeAt(0))) ||
      (up.length === 1 && pred(up.charCodeAt(0)));
  };
}

export interface Parsed {
  node: Node;
  groups: number;
  names: Record<string, number>;
}

export function parseRegex(pattern: string, ignoreCase: boolean): Parsed {
  let i = 0;
  let groups = 0;
  const names: Record<string, number> = {};
  const fail = (reason: string): never => {
    throw new RegexSyntaxError(pattern, `${reason} at ${i}`);
  };
  const mk = (ranges: Range[], negate: boolean): Node => {
    const pred = rangesPred(ranges, negate);
    return { t: "char", pred: ignoreCase ? caseFold(pred) : pred };
  };

  const parseAlt = (): Node => {
    const items = [parseCat()];
    while (pattern[i] === "|") {
      i++;
      items.push(parseCat());
    }
    return items.length === 1 ? items[0] : { t: "alt", items };
  };

  const parseCat = (): Node => {
    const items: Node[] = [];
    while (i < pattern.length && pattern[i] !== "|" && pattern[i] !== ")") {
      let atom = parseAtom();
      atom = parseQuantifier(atom);
      items.push(atom);
    }
    return items.length === 1 ? items[0] : { t: "cat", items };
  };

  const parseQuantifier = (atom: Node): Node => {
    const ch = pattern[i];
    let min: number, max: number;
    if (ch === "*") [min, max] = [0, Infinity];
    else if (ch === "+") [min, max] = [1, Infinity];
    else if (ch === "?") [min, max] = [0, 1];
    else if (ch === "{") {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i));
      if (!m) return atom; // a literal "{", as JS allows without the u flag
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === "" ? Infinity : Number(m[3]);
      if (min > MAX_REPEAT || (max !== Infinity && max > MAX_REPEAT)) {
        fail(`repeat count above ${MAX_REPEAT}`);
      }
      if (max < min) fail("repeat range out of order");
      i += m[0].length - 1;
    } else return atom;
    i++;
    if (atom.t === "bol" || atom.t === "eol" || atom.t === "wordb") fail("nothing to repeat");
    let greedy = true;
    if (pattern[i] === "?") {
      greedy = false;
      i++;
    }
    if (pattern[i] === "*" || pattern[i] === "+" || pattern[i] === "?") fail("nothing to repeat");
    return { t: "rep", node: atom, min, max: max!, greedy };
  };

  const parseAtom = (): Node => {
    const ch = pattern[i];
    if (ch === "(") return parseGroup();
    if (ch === "[") return parseClass();
    if (ch === "\\") return parseEscape(false) as Node;
    if (ch === "^") return i++, { t: "bol" };
    if (ch === "$") return i++, { t: "eol" };
    if (ch === ".") return i++, mk([[10, 10], [13, 13], [0x2028, 0x2029]], true);
    if (ch === "*" || ch === "+" || ch === "?") fail("nothing to repeat");
    i++;
    return mk([[ch.charCodeAt(0), ch.charCodeAt(0)]], false);
  };

  const parseGroup = (): Node => {
    i++;
    let index: number | null = null;
    let name: string | undefined;
    if (pattern[i] === "?") {
      const rest = pattern.slice(i, i + 3);
      if (rest.startsWith("?:")) i += 2;
      else if (rest === "?<=" || rest === "?<!" || rest.startsWith("?=") || rest.startsWith("?!")) {
        fail("lookaround is not supported");
      } else if (rest.startsWith("?<")) {
        const m = /^\?<([A-Za-z_$][\w$]*)>/.exec(pattern.slice(i));
        if (!m) fail("bad group name");
        name = m![1];
        i += m![0].length;
        index = ++groups;
        names[name] = index;
      } else fail("unknown group type");
    } else index = ++groups;
    const node = parseAlt();
    if (pattern[i] !== ")") fail('missing ")"');
    i++;
    return { t: "group", node, index, name };
  };

  /** In a class, returns ranges; outside, a node. */
  const parseEscape = (inClass: boolean): Node | Range[] => {
    i++;
    const ch = pattern[i++];
    if (ch === undefined) fail("trailing backslash");
    const cls = (ranges: Range[], neg: boolean) => {
      if (!inClass) return mk(ranges, neg);
      return neg ? complement(ranges) : ranges;
    };
    switch (ch) {
      case "d":
        return cls(DIGIT, false);
      case "D":
        return cls(DIGIT, true);
      case "w":
        return cls(WORD, false);
      case "W":
        return cls(WORD, true);
      case "s":
        return cls(SPACE, false);
      case "S":
        return cls(SPACE, true);
      case "b":
        if (inClass) return [[8, 8]];
        return { t: "wordb", neg: false };
      case "B":
        if (inClass) fail("\\B inside a class");
        return { t: "wordb", neg: true };
      case "k":
        return fail("backreferences are not supported");
      case "p":
      case "P":
        return fail("unicode property escapes are not supported");
    }
    let code: number;
    if (/[1-9]/.test(ch)) return fail("backreferences are not supported");
    if (ch === "t") code = 9;
    else if (ch === "n") code = 10;
    else if (ch === "r") code = 13;
    else if (ch === "f") code = 12;
    else if (ch === "v") code = 11;
    else if (ch === "0") code = 0;
    else if (ch === "x" || ch === "u") {
      const len = ch === "x" ? 2 : 4;
      const hex = pattern.slice(i, i + len);
      if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) fail(`bad \\${ch} escape`);
      code = parseInt(hex, 16);
      i += len;
    } else if (ch === "c") {
      const letter = pattern[i++];
      if (!letter || !/[A-Za-z]/.test(letter)) fail("bad \\c escape");
      code = letter.charCodeAt(0) % 32;
    } else code = ch.charCodeAt(0);
    return inClass ? [[code, code]] : mk([[code, code]], false);
  };

  const parseClass = (): Node => {
    i++;
    let negate = false;
    if (pattern[i] === "^") {
      negate = true;
      i++;
    }
    const ranges: Range[] = [];
    // As in JS without the u flag, "]" right after "[" closes an empty class.
    while (i < pattern.length && pattern[i] !== "]") {
      const lo = classAtom();
      if (
        lo.length === 1 && lo[0][0] === lo[0][1] && pattern[i] === "-" && pattern[i + 1] !== "]" &&
        i + 1 < pattern.length
      ) {
        i++;
        const hi = classAtom();
        if (hi.length !== 1 || hi[0][0] !== hi[0][1]) fail("bad class range");
        if (hi[0][0] < lo[0][0]) fail("class range out of order");
        ranges.push([lo[0][0], hi[0][0]]);
      } else ranges.push(...lo);
    }
    if (pattern[i] !== "]") fail('missing "]"');
    i++;
    return mk(ranges, negate);
  };

  const classAtom = (): Range[] => {
    if (pattern[i] === "\\") return parseEscape(true) as Range[];
    const c = pattern.charCodeAt(i++);
    return [[c, c]];
  };

  const node = parseAlt();
  if (i < pattern.length) fail('unmatched ")"');
  return { node, groups, names };
}
