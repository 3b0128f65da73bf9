/**
 * A replay keeps one input file's records alive while it works on them; with V8's default young
 * generation every scavenge copies that batch, a fifth of a replay's time (README, "Benchmark").
 * V8 reads the size only at start-up: the CLI launcher starts node with it, serverless.yml sets it in
 * NODE_OPTIONS and `npm run bench` passes it (a test keeps the three the same).
 */
export const YOUNG_GENERATION_FLAG = "--max-semi-space-size=64";
