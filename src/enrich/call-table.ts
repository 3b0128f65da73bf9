/**
 * API calls by eventSource and eventName, each with an entry: how enrichment knows a call (destructive
 * calls, log reductions, security services turned off) and how alert titles phrase one. Keyed by name,
 * not a pattern; built once at module load, looked up per event.
 */
import { awsEventSource } from "../event.ts";

export class CallTable<Entry> {
  private readonly bySource = new Map<string, Map<string, Entry>>();

  /**
   * Adds `entries` (eventName → entry) of the service whose eventSource prefix is `prefix` (`s3` for
   * s3.amazonaws.com), beside those already added for it; returns that eventSource.
   */
  add(prefix: string, entries: Record<string, Entry>): string {
    const source = awsEventSource(prefix);
    let byName = this.bySource.get(source);
    if (!byName) {
      byName = new Map();
      this.bySource.set(source, byName);
    }
    for (const [name, entry] of Object.entries(entries)) byName.set(name, entry);
    return source;
  }

  /** The entry of a call, or undefined when the table does not hold it. */
  get(service: string, action: string): Entry | undefined {
    return this.bySource.get(service)?.get(action);
  }

  /** Every call in the table, with its entry, in the order added. */
  calls(): Array<{ service: string; action: string; entry: Entry }> {
    const out: Array<{ service: string; action: string; entry: Entry }> = [];
    for (const [service, byName] of this.bySource)
      for (const [action, entry] of byName) out.push({ service, action, entry });
    return out;
  }
}
