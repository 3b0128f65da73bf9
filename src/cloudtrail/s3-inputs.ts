/**
 * `replay s3://bucket/prefix`: the trail objects under a prefix as input files, read one at a time, in
 * delivery order like a local directory (the whole listing is read first: keys only, not objects).
 */
import type { S3Client } from "@aws-sdk/client-s3";
import { type InputFile, inDeliveryOrder } from "./inputs.ts";
import { listS3Objects, parseS3Url, readS3Object } from "./s3.ts";

export async function* s3Inputs(client: S3Client, url: string): AsyncIterable<InputFile> {
  const { bucket } = parseS3Url(url);
  const keys: string[] = [];
  for await (const key of listS3Objects(client, url)) keys.push(key);
  for (const key of inDeliveryOrder(keys)) {
    yield {
      source: `s3://${bucket}/${key}`,
      read: () => readS3Object(client, bucket, key),
      decompressed: true,
    };
  }
}
