#!/usr/bin/env bash
# Packages the stack offline (dummy credentials, no AWS call) and lints the generated template.
# Used by .ci/run and `npm run package`. Fails on any cfn-lint error or warning.
set -euo pipefail
cd "$(dirname "$0")/.."

export AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x AWS_SESSION_TOKEN=x AWS_REGION=us-east-1
export AWS_PROFILE= AWS_SDK_LOAD_CONFIG=0
# No telemetry, update checks or dashboard calls: packaging must not need the network.
export SLS_TELEMETRY_DISABLED=1 SLS_NOTIFICATIONS_MODE=off SLS_DEPRECATION_DISABLE='*' SLS_INTERACTIVE_SETUP_DISABLE=1

rm -rf .serverless
npx osls package --stage ci --region us-east-1 \
  --param="trailBucket=example-org-trail-bucket" \
  --param="alertEmail=secops@example.com" \
  --param="trailKmsKeyArn=arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"

template=.serverless/cloudformation-template-update-stack.json
cfn-lint --format parseable -- "$template"  # settings: .cfnlintrc

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
