import { MemoryStore } from "../../src/state/memory.ts";
import { storeContract } from "./contract.ts";

let clock = 0;
storeContract(
  "MemoryStore",
  async () => {
    clock = Date.UTC(2026, 0, 1);
    return new MemoryStore(() => clock);
  },
  (ms) => {
    clock += ms;
  },
);
