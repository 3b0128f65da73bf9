/**
 * A replay keeps the records of the files it works on alive; with V8's default young generation
 * every scavenge copied them. Since the read-ahead thread does the parsing, what the main thread
 * allocates mostly dies within a batch or two: 256 MiB semi-spaces let it die before a scavenge
 * (README, "Benchmark": b/a 0.57–0.60 against 0.47–0.51 at 64 MiB, peak RSS about 600 against 480
 * MiB). V8 reads the size only at start-up: the CLI launcher starts node with it and `npm run bench`
 * passes it (a test keeps the two the same). The Lambda sets its own in serverless.yml.
 */
export const YOUNG_GENERATION_FLAG = "--max-semi-space-size=256";
