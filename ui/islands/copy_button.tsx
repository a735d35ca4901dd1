/** Copies a text (a webhook URL) to the clipboard and says so. */
import { useState } from "preact/hooks";

export function CopyButton({ text, label = "Copy" }: { text: string; label?: string }) {
  const [done, setDone] = useState<"" | "copied" | "failed">("");
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setDone("copied");
    } catch {
      // No clipboard API (plain http on another host): select the text for the user instead.
      const el = document.createElement("textarea");
      el.value = text;
      document.body.append(el);
      el.select();
      const ok = document.execCommand("copy");
      el.remove();
      setDone(ok ? "copied" : "failed");
    }
    setTimeout(() => setDone(""), 2000);
  };
  return (
    <>
      <button type="button" class="secondary small" onClick={copy}>{label}</button>
      <span role="status" class="small muted">
        {done === "copied" ? "Copied" : done === "failed" ? "Copy failed: select the URL" : ""}
      </span>
    </>
  );
}
