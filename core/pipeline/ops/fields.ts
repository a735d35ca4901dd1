/** Field operations: set, copy, move, rename, remove, default, pick, omit, template. */
import { z } from "zod";
import { getPath, parsePath, setPath } from "../../routing/json_path.ts";
import { compileRef, type Ref } from "../ref.ts";
import { compileTemplate } from "../template.ts";
import {
  clone,
  defineOp,
  MutableString,
  op,
  type OpDef,
  OpError,
  RefString,
  TargetString,
} from "./op.ts";

const BodyPath = z.string().superRefine((s, ctx) => {
  if (s.startsWith("$")) {
    ctx.addIssue({ code: "custom", message: `"${s}": pick and omit take body paths` });
    return;
  }
  try {
    parsePath(s);
  } catch (e) {
    ctx.addIssue({ code: "custom", message: (e as Error).message });
  }
});

export const FIELD_OPS: OpDef[] = [
  defineOp(
    "set",
    "Sets a field to a fixed JSON value",
    op("set", { path: TargetString, value: z.unknown() }),
    (cfg) => {
      const to = compileRef(cfg.path);
      const value = cfg.value ?? null;
      return (w) => to.set(w, clone(value));
    },
  ),
  defineOp(
    "copy",
    "Copies a value to another field (nothing when the source is missing)",
    op("copy", { from: RefString, to: TargetString }),
    (cfg) => {
      const from = compileRef(cfg.from);
      const to = compileRef(cfg.to);
      return (w) => {
        const v = from.get(w);
        if (v !== undefined) to.set(w, clone(v));
      };
    },
  ),
  defineOp(
    "move",
    "Moves a value to another field",
    op("move", { from: TargetString, to: TargetString }),
    (cfg) => {
      const from = compileRef(cfg.from);
      const to = compileRef(cfg.to);
      return (w) => {
        const v = from.get(w);
        if (v === undefined) return;
        from.delete(w);
        to.set(w, v);
      };
    },
  ),
  defineOp(
    "rename",
    "Renames a key in place, keeping its position among its siblings",
    op("rename", {
      path: BodyPath,
      to: z.string().min(1).regex(/^[^.[\]]+$/, "to is a key name, not a path"),
    }),
    (cfg) => {
      const segs = parsePath(cfg.path);
      if (segs.length === 0) throw new OpError("rename needs a field path, not the root");
      const parentSegs = segs.slice(0, -1);
      const last = String(segs[segs.length - 1]);
      return (w) => {
        const parent = getPath(w.body, parentSegs);
        if (typeof parent !== "object" || parent === null || Array.isArray(parent)) return;
        if (!Object.hasOwn(parent, last)) return;
        const renamed = Object.fromEntries(
          Object.entries(parent).map(([k, v]) => [k === last ? cfg.to : k, v]),
        );
        w.body = setPath(w.body, parentSegs, renamed);
      };
    },
  ),
  defineOp(
    "remove",
    "Removes a field (wildcards remove every match)",
    op("remove", { path: MutableString }),
    (cfg) => {
      const ref = compileRef(cfg.path);
      return (w) => void ref.delete(w);
    },
  ),
  defineOp(
    "default",
    "Sets a field only when it is missing or null",
    op("default", { path: TargetString, value: z.unknown() }),
    (cfg) => {
      const ref = compileRef(cfg.path);
      return (w) => {
        const v = ref.get(w);
        if (v === undefined || v === null) ref.set(w, clone(cfg.value ?? null));
      };
    },
  ),
  defineOp(
    "pick",
    "Keeps only the listed body paths",
    op("pick", { paths: z.array(BodyPath).min(1) }),
    (cfg) => {
      const list = cfg.paths.map(parsePath);
      return (w) => {
        let out: unknown = {};
        for (const segs of list) {
          const v = getPath(w.body, segs);
          if (v !== undefined) out = setPath(out, segs, v);
        }
        w.body = out;
      };
    },
  ),
  defineOp(
    "omit",
    "Removes the listed body paths",
    op("omit", { paths: z.array(BodyPath).min(1) }),
    (cfg) => {
      const refs: Ref[] = cfg.paths.map(compileRef);
      return (w) => {
        for (const r of refs) r.delete(w);
      };
    },
  ),
  defineOp(
    "template",
    "Renders a {{ref}} template string into a field",
    op("template", { to: TargetString, template: z.string() }),
    (cfg) => {
      const tpl = compileTemplate(cfg.template);
      const to = compileRef(cfg.to);
      return (w) => to.set(w, tpl(w));
    },
  ),
];
