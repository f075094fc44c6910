/**
 * Deepest message body the projector accepts, in nested objects and arrays (the body itself is
 * level 1). MongoDB stores documents nested at most 100 levels deep, and a message's payload or
 * result sits as deep in its read-model document as in the message; the schema validator would
 * also overflow the call stack on bodies nested some 1,500 levels deep. Deeper bodies are refused
 * before validation.
 */
export const maxMessageDepth = 90;

/**
 * Whether parsed JSON nests objects and arrays more than `maxDepth` levels deep. Walks the value
 * with an explicit stack, so any depth JSON.parse produces can be measured.
 */
export function exceedsDepth(value: unknown, maxDepth: number): boolean {
  const pending: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (next.value === null || typeof next.value !== "object") continue;
    const depth = next.depth + 1;
    if (depth > maxDepth) return true;
    const children: unknown[] = Array.isArray(next.value) ? next.value : Object.values(next.value);
    for (const child of children) pending.push({ value: child, depth });
  }
  return false;
}
