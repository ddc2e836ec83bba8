import type { DeliveryStreamConfig } from '../../lake/delivery.js';
import { deaggregateJson } from '../deaggregate.js';

// Multi-record deaggregation before the processor (docs/firehose.md): a record that does not
// split is passed whole, counted, and logged once per kind of failure.

export class SubRecords {
  private readonly logged = new Set<string>();

  constructor(
    private readonly config: DeliveryStreamConfig,
    private readonly counts: { deaggregationFailures: number },
    private readonly log: (line: string) => void,
  ) {}

  /** The record's JSON sub-records when the stream deaggregates and it splits, else the record. */
  of(data: Buffer): Buffer[] {
    if (this.config.deaggregation !== 'JSON') return [data];
    const split = deaggregateJson(data);
    if (split.ok) return split.records;
    this.counts.deaggregationFailures++;
    // Once per kind: a producer that sends unpacked bad records would flood the log otherwise.
    if (!this.logged.has(split.errorCode)) {
      this.logged.add(split.errorCode);
      this.log(
        `delivery stream ${this.config.streamName}: ${split.errorCode}: ${split.message} (passed whole to the transform; later ones are only counted)`,
      );
    }
    return [data];
  }
}
