/** CloudTrail's own eventTime form is read without the general regex: both must agree. */
import { describe, expect, it } from "vitest";
import { parseEventTime } from "../../src/cloudtrail/records.ts";

describe("parseEventTime: the canonical form and the general one", () => {
  const cases = [
    "2023-07-10T11:45:00Z",
    "2024-02-29T23:59:59Z",
    "2023-02-29T00:00:00Z", // no such day
    "2023-02-30T00:00:00Z",
    "2023-04-31T12:00:00Z",
    "2023-07-10T24:00:00Z", // rolls over to the next day: rejected
    "2023-07-10T23:60:00Z",
    "2023-13-01T00:00:00Z",
    "2023-00-10T00:00:00Z",
    "2023-07-00T00:00:00Z",
    "0000-01-01T00:00:00Z",
    "0099-12-31T23:59:59Z",
    "9999-12-31T23:59:59Z",
    "1900-02-29T00:00:00Z", // not a leap year
    "2000-02-29T00:00:00Z", // a leap year
    "2023-07-10T11:60:00Z", // rolls over within the day: accepted, as the general form does
  ];

  it.each(cases)("%s reads as the same instant written with a fraction", (text) => {
    // ".000Z" is not the canonical form: it goes through the general regex.
    const general = parseEventTime(text.replace("Z", ".000Z"));
    expect(parseEventTime(text)?.getTime()).toBe(general?.getTime());
  });

  it("accepts the canonical form and rejects near misses", () => {
    expect(parseEventTime("2023-07-10T11:45:00Z")?.toISOString()).toBe("2023-07-10T11:45:00.000Z");
    expect(parseEventTime("2023-02-30T00:00:00Z")).toBeUndefined();
    expect(parseEventTime("2023-07-10T11:45:0xZ")).toBeUndefined();
    expect(parseEventTime("2023-07-10X11:45:00Z")).toBeUndefined();
    expect(parseEventTime("2023-07-10 11:45:00Z")?.toISOString()).toBe("2023-07-10T11:45:00.000Z");
  });

  it("reads times in the minute it read last (its shortcut) exactly as on their own", () => {
    const sequence = [
      "2023-07-10T11:45:00Z",
      "2023-07-10T11:45:59Z",
      "2023-07-10T11:45:07Z",
      "2023-07-10T11:45:60Z", // not in the minute: the full reading decides
      "2023-07-10T11:46:01Z",
      "2023-07-10T11:45:30Z",
      "2024-02-28T23:59:58Z",
      "2024-02-29T00:00:01Z",
      "2023-02-28T23:59:30Z",
      "2023-02-29T00:00:01Z", // no such day, after a minute of the day before
      "2023-02-28T23:59:31Z",
    ];
    const general = sequence.map((t) => parseEventTime(t.replace("Z", ".000Z"))?.getTime());
    expect(sequence.map((t) => parseEventTime(t)?.getTime())).toEqual(general);
    expect(general[9]).toBeUndefined();
    expect(parseEventTime("2023-07-10T11:45:59Z")?.toISOString()).toBe("2023-07-10T11:45:59.000Z");
  });
});
