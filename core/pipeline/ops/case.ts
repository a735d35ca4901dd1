/** Word splitting shared by the case operations: "orderID", "order_id", "Order id" -> words. */
export function words(text: string): string[] {
  return text
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w !== "");
}

export function camelCase(text: string): string {
  return words(text)
    .map((w, i) => {
      const lower = w.toLowerCase();
      return i === 0 ? lower : lower.charAt(0).toUpperCase() + lower.slice(1);
    })
    .join("");
}

export function snakeCase(text: string): string {
  return words(text).map((w) => w.toLowerCase()).join("_");
}
