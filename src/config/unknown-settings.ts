/**
 * Unknown environment variables that look like one of ours: a misspelt setting must stop the server,
 * not be ignored. Built from the schema's names, so settings added later are covered automatically.
 */
export function unknownSettingProblem(
  name: string,
  known: readonly string[],
  ownedPrefixes: readonly string[],
): string | undefined {
  if (known.includes(name)) return undefined;
  const suggestion = closestSetting(name, known);
  if (suggestion !== undefined) {
    return `${name}: unknown setting; did you mean ${suggestion}? (see README "Configuration")`;
  }
  if (ownedPrefixes.some((prefix) => name.startsWith(prefix))) {
    return `${name}: unknown setting (check the spelling; see README "Configuration")`;
  }
  return undefined;
}

/**
 * The known name within a small edit distance, or undefined. Short names need an exact case-insensitive
 * match, so the machine's own variables (HOME vs HOST, PATH vs PORT) are never taken for typos.
 */
function closestSetting(name: string, known: readonly string[]): string | undefined {
  const upper = name.toUpperCase();
  const sameButCase = known.find((candidate) => candidate === upper);
  if (sameButCase !== undefined) return sameButCase;
  if (name !== upper || name.length < 6) return undefined;
  const allowed = name.length >= 12 ? 2 : 1;
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(name, candidate, allowed);
    if (distance <= allowed && (best === undefined || distance < best.distance)) best = { name: candidate, distance };
  }
  return best?.name;
}

/** Levenshtein distance, giving up (returning limit + 1) once it must exceed `limit`. */
export function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const value = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
      current.push(value);
      rowMin = Math.min(rowMin, value);
    }
    if (rowMin > limit) return limit + 1;
    previous = current;
  }
  return previous[b.length] ?? limit + 1;
}
