/**
 * Human-readable numbers, shared by core results and the terminal output.
 */

/** Human size: 1536 → "1.5 kB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return `${i === 0 ? value : value.toFixed(1)} ${units[i]}`;
}

/**
 * A count and its noun in the number it calls for: (1, 'entry') → "1 entry", (2, 'entry') →
 * "2 entries", (0, 'backup') → "0 backups". `many` for irregular plurals; otherwise -s, or -ies
 * after a consonant and y.
 */
export function plural(n: number, one: string, many?: string): string {
  if (n === 1) return `${n} ${one}`;
  return `${n} ${many ?? (/[^aeiou]y$/.test(one) ? `${one.slice(0, -1)}ies` : `${one}s`)}`;
}
