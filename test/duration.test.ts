import { describe, expect, it } from "vitest";
import { parseDuration } from "../src/duration.ts";
import { timespanMinutes } from "../src/rules/schema.ts";

describe("parseDuration", () => {
  it("reads seconds, minutes, hours, days and weeks, and rejects anything else with the flag's name", () => {
    expect([
      parseDuration("90s"),
      parseDuration("15m"),
      parseDuration("3h"),
      parseDuration("2d"),
      parseDuration("1w"),
    ]).toEqual([90, 900, 10800, 172800, 604800]);
    expect(() => parseDuration("3 hours", "--since")).toThrow(/^--since: expected a number and a unit/);
    expect(() => parseDuration("-5m")).toThrow();
  });

  it("gives Sigma timespans in whole minutes, rounding seconds up", () => {
    expect([
      timespanMinutes("30s"),
      timespanMinutes("90s"),
      timespanMinutes("5m"),
      timespanMinutes("1h"),
    ]).toEqual([1, 2, 5, 60]);
  });
});
