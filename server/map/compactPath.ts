/**
 * Rewrites d3's absolute path ("M1,2L3,4L3,4Z") as relative moves without repeated points
 * ("M1,2l2,2z"): a third smaller, and the same drawing.
 */
export function compactPath(d: string): string {
  let out = '';
  let x = 0;
  let y = 0;
  let start: [number, number] = [0, 0];
  for (const [, command, args] of d.matchAll(/([MLZ])([^MLZ]*)/g)) {
    if (command === 'Z') {
      out += 'z';
      [x, y] = start; // a closed subpath leaves the pen where it began
      continue;
    }
    const [px = 0, py = 0] = (args ?? '').split(',').map(Number);
    if (command === 'M') {
      out += out === '' ? `M${px},${py}` : `m${px - x},${py - y}`;
      start = [px, py];
    } else if (px !== x || py !== y) {
      out += `l${px - x},${py - y}`;
    }
    x = px;
    y = py;
  }
  return out;
}
