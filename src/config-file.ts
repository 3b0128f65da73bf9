/** --config FILE: YAML or JSON (JSON is YAML), validated by the one config schema. */
import { readFile } from "node:fs/promises";
import { parse } from "yaml";
import { type Config, ConfigError, defaultConfig, parseConfig } from "./config.ts";

export async function readConfigFile(path: string | undefined): Promise<Config> {
  if (!path) return defaultConfig;
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new ConfigError(`${path}: cannot read config: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new ConfigError(`${path}: not YAML/JSON: ${(err as Error).message.split("\n")[0]}`);
  }
  return parseConfig(doc, path);
}
