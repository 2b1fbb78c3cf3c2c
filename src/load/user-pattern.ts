/**
 * A printf-style pattern for user names: exactly one `%d` conversion, with an optional zero flag
 * and width (`user%06d` → user000001), and `%%` for a literal percent sign. Nothing else of printf.
 */
export class UserPattern {
  private readonly prefix: string;
  private readonly suffix: string;
  private readonly width: number;
  private readonly zero: boolean;

  private constructor(readonly pattern: string, prefix: string, suffix: string, width: number, zero: boolean) {
    this.prefix = prefix;
    this.suffix = suffix;
    this.width = width;
    this.zero = zero;
  }

  /** Parse a pattern; returns a sentence saying what is wrong instead when it is not one. */
  static parse(pattern: string): UserPattern | string {
    const conversions = [...pattern.matchAll(/%(%|0?\d*d|.?)/g)];
    const numeric = conversions.filter((m) => m[1] !== '%');
    const bad = numeric.find((m) => !/^0?\d*d$/.test(m[1]!));
    if (bad !== undefined) return `"${bad[0]}" is not supported (use %d, %06d, or %% for a percent sign)`;
    if (numeric.length !== 1) return `it must contain exactly one %d (e.g. user%06d), found ${numeric.length}`;
    const m = numeric[0]!;
    const spec = m[1]!;
    const width = spec.length > 1 ? Number(spec.slice(spec.startsWith('0') ? 1 : 0, -1) || '0') : 0;
    if (width > 20) return `the width ${width} is too large (at most 20)`;
    const unescape = (s: string): string => s.replace(/%%/g, '%');
    const prefix = unescape(pattern.slice(0, m.index));
    const suffix = unescape(pattern.slice(m.index! + m[0].length));
    return new UserPattern(pattern, prefix, suffix, width, spec.startsWith('0'));
  }

  /** The user name for number `n` (a non-negative integer). */
  format(n: number): string {
    const digits = String(n);
    const padded = digits.length >= this.width ? digits : (this.zero ? '0' : ' ').repeat(this.width - digits.length) + digits;
    return this.prefix + padded + this.suffix;
  }
}
