/**
 * Splitting items, in order, into requests: AWS batch APIs bound the entries of a request (DynamoDB,
 * SNS, CloudWatch), some also its bytes.
 */

/** Splits items, in order, into requests of at most `maxItems` items. */
export function chunkByCount<T>(items: readonly T[], maxItems: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += maxItems) out.push(items.slice(i, i + maxItems));
  return out;
}

/**
 * Splits items, in order, into requests of at most `maxItems` items and `maxBytes` bytes (an item
 * larger than `maxBytes` goes alone: the caller decides whether it can be sent).
 */
export function chunkBySize<T>(
  items: readonly T[],
  maxItems: number,
  maxBytes: number,
  sizeOf: (item: T) => number,
): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (current.length && (current.length >= maxItems || bytes + size > maxBytes)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length) out.push(current);
  return out;
}
