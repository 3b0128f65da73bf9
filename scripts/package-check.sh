#!/usr/bin/env bash
# Packages the stack offline (dummy credentials, no AWS call) and lints the generated template.
# Used by .ci/run and `npm run package`. Fails on any cfn-lint error or warning.
set -euo pipefail
cd "$(dirname "$0")/.."

export AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x AWS_SESSION_TOKEN=x AWS_REGION=us-east-1
export AWS_PROFILE= AWS_SDK_LOAD_CONFIG=0
# No telemetry, update checks or dashboard calls: packaging must not need the network.
export SLS_TELEMETRY_DISABLED=1 SLS_NOTIFICATIONS_MODE=off SLS_DEPRECATION_DISABLE='*' SLS_INTERACTIVE_SETUP_DISABLE=1

# Both trigger modes must package and lint; the S3 mode (the default) is checked last and its artifact kept.
check() {
  rm -rf .serverless
  npx osls package --stage ci --region us-east-1 "$@"
  cfn-lint --format parseable -- .serverless/cloudformation-template-update-stack.json # settings: .cfnlintrc
}
check --param="trailBucket=example-org-trail-bucket" --param="trigger=sqs" \
  --param="trailQueueArn=arn:aws:sqs:us-east-1:111122223333:trail-notifications" --param="readOnlyEvents=true"
check --param="trailBucket=example-org-trail-bucket" --param="trailKeyPrefix=org-trail/" \
  --param="alertEmail=secops@example.com" --param="backfill=true" \
  --param="trailKmsKeyArn=arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab" \
  --param="alertTopicKmsKeyArn=arn:aws:kms:us-east-1:111122223333:key/5678abcd-12ab-34cd-56ef-1234567890ab"

# The artifact must hold the bundled handler and the built-in rules it loads at run time.
artifact=$(ls .serverless/*.zip | grep -v custom-resources | head -n 1)
listing=$(unzip -Z1 "$artifact")
grep -qx 'functions/handler.mjs' <<<"$listing" || { echo "package-check: $artifact has no functions/handler.mjs" >&2; exit 1; }
if ls rules/*.yml >/dev/null 2>&1; then
  grep -q '^rules/.*\.yml$' <<<"$listing" || { echo "package-check: $artifact has no rules/*.yml" >&2; exit 1; }
fi
if grep -q '^rules/fixtures/' <<<"$listing"; then
  echo "package-check: rule fixtures must not ship in $artifact" >&2
  exit 1
fi
echo "package-check: ok ($artifact, $(wc -l <<<"$listing") files)"
