/**
 * `replay s3://bucket/prefix`: the trail objects under a prefix as input files, read one at a time, in
 * delivery order like a local directory (the whole listing is read first: keys only, not objects).
 */
import type { S3Client } from "@aws-sdk/client-s3";
import { FileError } from "./decode.ts";
import { type InputFile, inDeliveryOrder } from "./inputs.ts";
import { listS3Objects, parseS3Url, readS3Object } from "./s3.ts";

/**
 * The trail objects under each URL in turn. A listing that fails (no such bucket, no permission) or
 * finds no trail object is passed to `onListingFailed` and the next URL goes on, the way an unreadable
 * file is reported.
 */
export async function* s3Inputs(
  client: S3Client,
  urls: readonly string[],
  onListingFailed: (url: string, err: unknown) => void,
): AsyncIterable<InputFile> {
  for (const url of urls) {
    let bucket: string;
    const keys: string[] = [];
    try {
      bucket = parseS3Url(url).bucket;
      for await (const key of listS3Objects(client, url)) keys.push(key);
    } catch (err) {
      onListingFailed(url, err);
      continue;
    }
    // A mistyped prefix lists nothing: said, not replayed as a quiet, empty trail.
    if (keys.length === 0) {
      onListingFailed(url, new FileError(url, "no CloudTrail log files under this prefix"));
      continue;
    }
    for (const key of inDeliveryOrder(keys)) {
      yield {
        source: `s3://${bucket}/${key}`,
        read: () => readS3Object(client, bucket, key),
        decompressed: true,
      };
    }
  }
}
