/** `replay s3://bucket/prefix`: the trail objects under a prefix as input files, read one at a time. */
import type { S3Client } from "@aws-sdk/client-s3";
import type { InputFile } from "./inputs.ts";
import { listS3Objects, parseS3Url, readS3Object } from "./s3.ts";

export async function* s3Inputs(client: S3Client, url: string): AsyncIterable<InputFile> {
  const { bucket } = parseS3Url(url);
  for await (const key of listS3Objects(client, url)) {
    yield {
      source: `s3://${bucket}/${key}`,
      read: () => readS3Object(client, bucket, key),
      decompressed: true,
    };
  }
}
