/** Longest time a Node timer waits, in milliseconds: a longer one fires at once. */
export const maxTimerMs = 2 ** 31 - 1;
