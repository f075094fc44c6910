/**
 * Whether parsed JSON nests objects and arrays more than `maxDepth` levels deep as the read model
 * stores it: an array held directly by an array is stored wrapped in an object (FerretDB refuses
 * nested arrays), so it counts two levels. Walks the value with an explicit stack, so any depth
 * JSON.parse produces can be measured.
 */
export function exceedsDepth(value: unknown, maxDepth: number): boolean {
  const pending: { value: unknown; depth: number; inArray: boolean }[] = [
    { value, depth: 0, inArray: false },
  ];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (next.value === null || typeof next.value !== "object") continue;
    const isArray = Array.isArray(next.value);
    const depth = next.depth + storedLevels(isArray, next.inArray);
    if (depth > maxDepth) return true;
    const children: unknown[] = isArray ? (next.value as unknown[]) : Object.values(next.value);
    for (const child of children) pending.push({ value: child, depth, inArray: isArray });
  }
  return false;
}

/**
 * The levels a container takes as stored: one, or two for an array held directly by an array (its
 * wrapping object and itself).
 */
export function storedLevels(isArray: boolean, inArray: boolean): number {
  return isArray && inArray ? 2 : 1;
}
