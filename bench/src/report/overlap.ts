/**
 * The chance that the ranges of `a` and `b` values drawn from one continuous distribution overlap:
 * they do not only when every value of one run lies below every value of the other, which happens
 * with probability 2 · a! · b! / (a + b)!.
 */
export function chanceOfOverlap(a: number, b: number): number {
  let apart = 2;
  // a! b! / (a+b)! = 1 / C(a+b, a), built up as a product to stay exact for small counts.
  for (let i = 1; i <= b; i++) apart *= i / (a + i);
  return 1 - apart;
}
